//! The portal's pages: minijinja templates named `.html`, so every value is HTML-escaped, built
//! into the binary; and the stylesheet and the one small script they share. No page has an
//! inline script or handler (the policy allows scripts from our own path only), and every page
//! works without the script: it only adds "Copy" buttons.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior, Value};

/// The stylesheet, served from our own path (the CSP allows styles from 'self' only).
pub(crate) const STYLESHEET: &str = include_str!("static/portal.css");
pub(crate) const STYLESHEET_PATH: &str = "/portal/static/portal.css";
/// The copy buttons (progressive enhancement), served from our own path.
pub(crate) const SCRIPT: &str = include_str!("static/portal.js");
pub(crate) const SCRIPT_PATH: &str = "/portal/static/portal.js";

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("sent.html", include_str!("templates/sent.html")),
    ("confirm.html", include_str!("templates/confirm.html")),
    ("licenses.html", include_str!("templates/licenses.html")),
    ("message.html", include_str!("templates/message.html")),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("the built-in portal templates parse (checked by tests)");
        }
        env
    })
}

/// Renders page `name` with `context`.
pub(crate) fn render(name: &str, context: Value) -> Result<String, minijinja::Error> {
    environment().get_template(name)?.render(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    #[test]
    fn every_template_parses_and_values_are_escaped() {
        for (name, _) in TEMPLATES {
            environment().get_template(name).unwrap();
        }
        let html = render(
            "message.html",
            context! {
                title => "<script>x</script>", paragraphs => vec!["a & b"],
                link => None::<String>, link_label => "", csrf => "t", signed_in => false,
                support => "s@example.com", stylesheet => STYLESHEET_PATH,
                script => SCRIPT_PATH, site_name => "Acme <Tools>", site_url => None::<String>,
                logo_url => None::<String>,
            },
        )
        .unwrap();
        assert!(html.contains("&lt;script&gt;x&lt;"), "{html}");
        assert!(html.contains("a &amp; b"));
        assert!(html.contains("Acme &lt;Tools&gt;"), "{html}");
        // Only our own script file: nothing inline.
        assert_eq!(html.matches("<script").count(), 1, "{html}");
        assert!(
            html.contains(
                "<script src=\"&#x2f;portal&#x2f;static&#x2f;portal.js\" defer></script>"
            ),
            "{html}"
        );
    }
}
