//! A stand-in for the box's nginx where a test has none (a plain `Sandbox`, nginx unmanaged):
//! a loopback TCP forwarder whose every connection goes to the api slot dtops recorded as
//! serving at that moment, so a URL a test hands to dtops keeps working across a blue/green
//! change dtops makes while it runs (the cutover's test ping). Threads, one per connection;
//! stops with the test process.

use std::io::copy;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;

pub struct Front {
    pub port: u16,
}

impl Front {
    /// Forwards 127.0.0.1:<port> to the slot `.dtops/live-slot` under `root` names (blue before
    /// one is recorded), `blue` and `green` being the slots' ports.
    pub fn start(root: PathBuf, blue: u16, green: u16) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let record = root.join("srv/datatools-license/.dtops/live-slot");
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let live = std::fs::read_to_string(&record).unwrap_or_default();
                let target = if live.lines().any(|l| l.trim() == "green") {
                    green
                } else {
                    blue
                };
                std::thread::spawn(move || {
                    let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                        return;
                    };
                    let (mut from_client, mut to_upstream) =
                        (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                    let forward = std::thread::spawn(move || {
                        let _ = copy(&mut from_client, &mut to_upstream);
                        let _ = to_upstream.shutdown(std::net::Shutdown::Write);
                    });
                    let (mut from_upstream, mut to_client) = (upstream, client);
                    let _ = copy(&mut from_upstream, &mut to_client);
                    let _ = to_client.shutdown(std::net::Shutdown::Write);
                    let _ = forward.join();
                });
            }
        });
        Front { port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}
