//! The api's two slots (blue/green): two loopback ports, one serving, the other idle until the
//! next change starts the new version there (`bluegreen/`). Their names, as compose and the
//! native runtime use them, are derived here so the template, the runtimes and the status line
//! agree.

use serde::Serialize;

use super::model::Site;

/// One of the api's two slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    Blue,
    Green,
}

impl Slot {
    pub const ALL: [Slot; 2] = [Slot::Blue, Slot::Green];

    pub fn name(self) -> &'static str {
        match self {
            Slot::Blue => "blue",
            Slot::Green => "green",
        }
    }

    pub fn other(self) -> Slot {
        match self {
            Slot::Blue => Slot::Green,
            Slot::Green => Slot::Blue,
        }
    }

    pub fn parse(word: &str) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.name() == word.trim())
    }

    /// The compose service (`api-blue`).
    pub fn service(self) -> String {
        format!("api-{}", self.name())
    }

    /// The compose container (`datatools-api-blue`; compose.yml names its containers).
    pub fn container(self) -> String {
        format!("datatools-api-{}", self.name())
    }

    /// The site.toml key of its port (for messages).
    pub fn port_key(self) -> &'static str {
        match self {
            Slot::Blue => "ports.api_blue",
            Slot::Green => "ports.api_green",
        }
    }
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Site {
    /// The loopback port of `slot`: `[ports] api_blue`/`api_green`, by default the two after
    /// `ports.api` (the door nginx keeps on it reaches whichever slot serves).
    pub fn slot_port(&self, slot: Slot) -> u16 {
        let (given, offset) = match slot {
            Slot::Blue => (self.ports.api_blue, 1),
            Slot::Green => (self.ports.api_green, 2),
        };
        given.unwrap_or_else(|| self.ports.api.saturating_add(offset))
    }

    /// `http://127.0.0.1:PORT` of `slot`: dtops' own calls reach a slot directly.
    pub fn slot_url(&self, slot: Slot) -> String {
        format!("http://127.0.0.1:{}", self.slot_port(slot))
    }
}
