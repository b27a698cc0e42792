//! Feeds arbitrary text to the configuration reader as a command line and as config-file
//! lines (`include` aside: config files are trusted to name readable files): any input is
//! applied or refused with a message, never a panic; an accepted value reads back (CONFIG
//! GET) as one that parses again to itself. The same properties run in CI as proptests
//! (src/config/directives.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;
use replikv::config::{self, parse_command_line, Settings};
use replikv::resp::parser::split_args;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let argv: Vec<String> = text.split(' ').map(str::to_string).collect();
    if let Ok(cl) = parse_command_line(&argv) {
        let _ = Settings::defaults().apply_lines(&cl.directives);
    }
    for line in text.lines() {
        let Some(args) = split_args(line.as_bytes()) else {
            continue;
        };
        let mut args = args.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned());
        let Some(name) = args.next() else { continue };
        let Some(d) = config::find(&name) else { continue };
        let args: Vec<String> = args.collect();
        let mut s = Settings::defaults();
        if (d.set)(&mut s, &args).is_ok() {
            let shown = (d.get)(&s);
            let again = if d.multi_arg {
                config::directives::split_value(&shown)
            } else {
                vec![shown.clone()]
            };
            let mut t = Settings::defaults();
            assert!((d.set)(&mut t, &again).is_ok(), "{}: {shown:?}", d.name);
            assert_eq!((d.get)(&t), shown, "{}", d.name);
        }
    }
});
