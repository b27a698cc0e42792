//! Reading redis.conf syntax: comments, quoted arguments, `include`, and the redis-server style
//! command line (`replikv [FILE] [--directive arg ...]`), into a flat list of directive lines.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::resp::parser::split_args;

/// One directive line: its name (lower-cased) and arguments, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Directive name, lower-cased.
    pub name: String,
    /// Arguments after the name.
    pub args: Vec<String>,
    /// Where the line came from, for error messages.
    pub origin: Origin,
}

/// The source of a directive line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A line of a config file.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The line as written.
        text: String,
    },
    /// The command line.
    CommandLine {
        /// The directive as reassembled from argv.
        text: String,
    },
}

/// A configuration that cannot be used: start-up stops with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the offending directive is.
    pub origin: Option<Origin>,
    /// Why it is refused.
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "*** FATAL CONFIG FILE ERROR (replikv {}) ***",
            env!("CARGO_PKG_VERSION")
        )?;
        match &self.origin {
            Some(Origin::File { path, line, text }) => {
                writeln!(
                    f,
                    "Reading the configuration file {}, at line {line}",
                    path.display()
                )?;
                writeln!(f, ">>> '{text}'")?;
            }
            Some(Origin::CommandLine { text }) => {
                writeln!(f, "Reading the command line, at directive")?;
                writeln!(f, ">>> '{text}'")?;
            }
            None => {}
        }
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// An error at `origin`.
    pub fn at(origin: &Origin, reason: impl Into<String>) -> Self {
        Self {
            origin: Some(origin.clone()),
            reason: reason.into(),
        }
    }
}

const MAX_INCLUDE_DEPTH: usize = 16;

/// Reads a config file, following `include` directives (paths relative to the working
/// directory, as Redis does).
pub fn read_file(path: &Path) -> Result<Vec<Line>, ConfigError> {
    let mut lines = Vec::new();
    read_file_into(path, &mut lines, 0)?;
    Ok(lines)
}

fn read_file_into(path: &Path, out: &mut Vec<Line>, depth: usize) -> Result<(), ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError {
        origin: None,
        reason: format!(
            "Fatal error, can't open config file '{}': {e}",
            path.display()
        ),
    })?;
    let text = String::from_utf8_lossy(&bytes);
    for (index, raw) in text.lines().enumerate() {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let origin = Origin::File {
            path: path.to_path_buf(),
            line: index + 1,
            text: trimmed.to_string(),
        };
        let Some(args) = split_args(trimmed.as_bytes()) else {
            return Err(ConfigError::at(
                &origin,
                "Unbalanced quotes in configuration line",
            ));
        };
        let mut args = args
            .into_iter()
            .map(|a| String::from_utf8_lossy(&a).into_owned());
        let Some(name) = args.next() else { continue };
        let name = name.to_ascii_lowercase();
        let args: Vec<String> = args.collect();
        if name == "include" {
            if args.len() != 1 {
                return Err(ConfigError::at(
                    &origin,
                    "Bad directive or wrong number of arguments",
                ));
            }
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(ConfigError::at(&origin, "Too many nested includes"));
            }
            read_file_into(Path::new(&args[0]), out, depth + 1)?;
            continue;
        }
        out.push(Line { name, args, origin });
    }
    Ok(())
}

/// What the command line asked for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CommandLine {
    /// The config file named as the first argument, if any.
    pub config_file: Option<PathBuf>,
    /// `--directive args` pairs, in order.
    pub directives: Vec<Line>,
    /// `--version` / `-v`.
    pub version: bool,
    /// `--help` / `-h`.
    pub help: bool,
    /// `--openapi`: print the control plane's OpenAPI document and exit.
    pub openapi: bool,
}

/// Parses `replikv [CONFIG_FILE] [--directive arg ...]` as redis-server does: each `--name`
/// starts a directive and the following arguments (until the next `--name`) are its values.
pub fn parse_command_line(argv: &[String]) -> Result<CommandLine, ConfigError> {
    let mut cl = CommandLine::default();
    let mut rest = argv;
    if let Some(first) = rest.first() {
        match first.as_str() {
            "-v" | "--version" => {
                cl.version = true;
                return Ok(cl);
            }
            "-h" | "--help" => {
                cl.help = true;
                return Ok(cl);
            }
            "--openapi" => {
                cl.openapi = true;
                return Ok(cl);
            }
            s if !s.starts_with("--") => {
                cl.config_file = Some(PathBuf::from(s));
                rest = &rest[1..];
            }
            _ => {}
        }
    }
    // As in redis-server: `--name` starts a directive only once the previous one has a
    // value, so `--requirepass --weird` sets the password "--weird"; `--save --next` means
    // `save ""`; "--name value" in one argument carries its value; arguments before any
    // `--name` make a line of their own (`loglevel verbose`), which Redis accepts too.
    let mut current: Option<(Vec<String>, String)> = None;
    let mut has_value = true;
    for (i, arg) in rest.iter().enumerate() {
        match arg.strip_prefix("--") {
            Some(body) if has_value => {
                if let Some((tokens, text)) = current.take() {
                    cl.directives.push(command_line_line(tokens, text)?);
                }
                let origin = Origin::CommandLine {
                    text: body.to_string(),
                };
                let tokens: Vec<String> = split_args(body.as_bytes())
                    .ok_or_else(|| {
                        ConfigError::at(&origin, "Unbalanced quotes in configuration line")
                    })?
                    .into_iter()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .collect();
                let mut text = format!("{body} ");
                let mut tokens = tokens;
                if tokens.len() <= 1 {
                    has_value = false;
                    if arg.eq_ignore_ascii_case("--save") {
                        let next_is_option = rest.get(i + 1).is_some_and(|n| n.starts_with("--"));
                        if next_is_option || i + 1 == rest.len() {
                            tokens.push(String::new());
                            text.push_str("\"\"");
                            has_value = true;
                        }
                    }
                } else {
                    has_value = true;
                }
                current = Some((tokens, text));
            }
            _ => {
                let (tokens, text) = current.get_or_insert_with(|| (Vec::new(), String::new()));
                tokens.push(arg.clone());
                text.push_str(&crate::resp::parser::repr(arg.as_bytes()));
                text.push(' ');
                has_value = true;
            }
        }
    }
    if let Some((tokens, text)) = current.take() {
        cl.directives.push(command_line_line(tokens, text)?);
    }
    Ok(cl)
}

/// A command-line directive, shown in errors as Redis shows it: the name, then each value
/// quoted (`port "6379" "6380"`).
fn command_line_line(tokens: Vec<String>, text: String) -> Result<Line, ConfigError> {
    let origin = Origin::CommandLine {
        text: text.trim_end().to_string(),
    };
    let mut tokens = tokens.into_iter();
    let Some(name) = tokens.next().filter(|n| !n.is_empty()) else {
        return Err(ConfigError::at(
            &origin,
            "Bad directive or wrong number of arguments",
        ));
    };
    Ok(Line {
        name: name.to_ascii_lowercase(),
        args: tokens.collect(),
        origin,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn command_line_directives() {
        let cl = parse_command_line(&argv(&[
            "conf/x.conf",
            "--port",
            "7001",
            "--replicaof",
            "127.0.0.1",
            "7000",
            "--save",
            "",
        ]))
        .unwrap();
        assert_eq!(cl.config_file, Some(PathBuf::from("conf/x.conf")));
        let got: Vec<(String, Vec<String>)> = cl
            .directives
            .into_iter()
            .map(|l| (l.name, l.args))
            .collect();
        assert_eq!(
            got,
            vec![
                ("port".into(), argv(&["7001"])),
                ("replicaof".into(), argv(&["127.0.0.1", "7000"])),
                ("save".into(), argv(&[""])),
            ]
        );
    }

    #[test]
    fn flags() {
        assert!(parse_command_line(&argv(&["--version"])).unwrap().version);
        assert!(parse_command_line(&argv(&["-h"])).unwrap().help);
        assert!(parse_command_line(&argv(&["stray"]))
            .unwrap()
            .config_file
            .is_some());
        assert!(parse_command_line(&argv(&["--port", "1", "x", "--bind"])).is_ok());
    }

    /// redis-server's rules, as Redis's unit/introspection checks them.
    #[test]
    fn command_line_follows_redis_rules() {
        let lines = |args: &[&str]| -> Vec<(String, Vec<String>, String)> {
            let mut full = vec!["x.conf"];
            full.extend_from_slice(args);
            parse_command_line(&argv(&full))
                .unwrap()
                .directives
                .into_iter()
                .map(|l| {
                    let Origin::CommandLine { text } = l.origin else {
                        panic!("a command-line origin")
                    };
                    (l.name, l.args, text)
                })
                .collect()
        };
        // A value after a bare option name is taken even when it starts with `--`.
        let got = lines(&["--port", "--loglevel", "verbose"]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2, "port \"--loglevel\" \"verbose\"");
        // Name and value in one argument, quotes inside it honoured.
        let got = lines(&["--maxmemory '700mb'", "--loglevel verbose"]);
        assert_eq!(got[0].0, "maxmemory");
        assert_eq!(got[0].1, ["700mb"]);
        assert_eq!(got[1].1, ["verbose"]);
        // Values before any option make a line of their own.
        let got = lines(&["loglevel", "verbose", "--port", "1"]);
        assert_eq!(
            (got[0].0.as_str(), got[0].1.as_slice()),
            ("loglevel", &["verbose".to_string()][..])
        );
        // `--save` followed by an option, or last, means `save ""`.
        for args in [
            &["--save", "--loglevel", "verbose"][..],
            &["--loglevel", "verbose", "--save"],
        ] {
            let got = lines(args);
            let save = got.iter().find(|l| l.0 == "save").unwrap();
            assert_eq!(save.1, [""], "{args:?}");
        }
        // Errors show the directive as Redis does.
        let got = lines(&["--port", "6379", "6380"]);
        assert_eq!(got[0].2, "port \"6379\" \"6380\"");
    }

    #[test]
    fn file_with_include_and_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let inc = dir.path().join("inc.conf");
        std::fs::write(&inc, "port 7002\n").unwrap();
        let main = dir.path().join("main.conf");
        std::fs::write(
            &main,
            format!(
                "# comment\n\nrequirepass \"a b\"\ninclude {}\n  loglevel   warning\n",
                inc.display()
            ),
        )
        .unwrap();
        let lines = read_file(&main).unwrap();
        let got: Vec<(String, Vec<String>)> = lines.into_iter().map(|l| (l.name, l.args)).collect();
        assert_eq!(
            got,
            vec![
                ("requirepass".into(), argv(&["a b"])),
                ("port".into(), argv(&["7002"])),
                ("loglevel".into(), argv(&["warning"])),
            ]
        );
    }

    #[test]
    fn unbalanced_quotes_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.conf");
        std::fs::write(&path, "port 1\nrequirepass \"oops\n").unwrap();
        let err = read_file(&path).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("at line 2"), "{text}");
        assert!(text.contains("bad.conf"), "{text}");
    }
}
