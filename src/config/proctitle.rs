//! `proc-title-template`: Redis's template syntax for the process title (`{title}
//! {listen-addr} {server-mode}` by default), expanded and validated here; the title itself
//! is written by `telemetry::proctitle`.

/// The values a template's `{variables}` stand for (Redis's names).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    /// `{title}`: the program's name as it was run (its first argument).
    pub title: String,
    /// `{listen-addr}`: `bind-address:port`, or `unixsocket:path` without TCP.
    pub listen_addr: String,
    /// `{server-mode}`: empty (no cluster or sentinel mode here).
    pub server_mode: String,
    /// `{config-file}`: the configuration file, or `-`.
    pub config_file: String,
    /// `{port}`.
    pub port: u16,
    /// `{tls-port}`.
    pub tls_port: u16,
    /// `{unixsocket}`.
    pub unixsocket: String,
}

/// Expands `template` (Redis's `sdstemplate`: `{name}` is a variable, `{{` a literal `{`),
/// trimming spaces at both ends; `None` when it names an unknown variable or a `{` is not
/// closed.
pub fn expand(template: &str, vars: &Vars) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if after.is_empty() {
            return None;
        }
        if let Some(quoted) = after.strip_prefix('{') {
            out.push('{');
            rest = quoted;
            continue;
        }
        let close = after.find('}')?;
        let value = match &after[..close] {
            "title" => vars.title.clone(),
            "listen-addr" => vars.listen_addr.clone(),
            "server-mode" => vars.server_mode.clone(),
            "config-file" => vars.config_file.clone(),
            "port" => vars.port.to_string(),
            "tls-port" => vars.tls_port.to_string(),
            "unixsocket" => vars.unixsocket.clone(),
            _ => return None,
        };
        out.push_str(&value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Some(out.trim_matches(' ').to_string())
}

/// Redis's check of a template: it expands, to something not empty, with an empty
/// `{title}` (the other variables have values whatever the configuration).
pub fn is_valid(template: &str) -> bool {
    let vars = Vars {
        listen_addr: "*:0".into(),
        config_file: "-".into(),
        ..Vars::default()
    };
    expand(template, &vars).is_some_and(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Vars {
        Vars {
            title: "/usr/bin/replikv".into(),
            listen_addr: "127.0.0.1:6379".into(),
            config_file: "/etc/replikv.conf".into(),
            port: 6379,
            ..Vars::default()
        }
    }

    #[test]
    fn the_default_template_expands_as_redis() {
        let t = expand("{title} {listen-addr} {server-mode}", &vars());
        assert_eq!(t.as_deref(), Some("/usr/bin/replikv 127.0.0.1:6379"));
    }

    #[test]
    fn quoting_unknown_variables_and_unclosed_braces() {
        assert_eq!(expand("{{x} {port}", &vars()).as_deref(), Some("{x} 6379"));
        assert_eq!(expand("{invalid-var}", &vars()), None);
        assert_eq!(expand("{port", &vars()), None);
        assert_eq!(expand("trailing {", &vars()), None);
        assert!(!is_valid("  {server-mode}  "), "empty once expanded");
        assert!(!is_valid("{title}"), "empty once expanded, as in Redis");
        assert!(is_valid("{title} {listen-addr} {server-mode}"));
        assert!(is_valid("TEST {title} {unixsocket} {config-file}"));
    }
}
