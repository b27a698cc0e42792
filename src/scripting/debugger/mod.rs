//! The Lua debugger (LDB) of Redis 7.0, for `SCRIPT DEBUG SYNC` (what `redis-cli --ldb
//! --ldb-sync-mode` drives): the next EVAL of the client runs under a line hook that stops
//! at every step or breakpoint, sends the debugger's log lines as an array of status
//! replies, and reads the client's debugger commands (`step`, `continue`, `list`, `print`,
//! `break`, `eval`, `redis`, `trace`, `maxlen`, `abort`) from its connection until one
//! resumes the script. The session blocks the engine, as Redis's synchronous session blocks
//! its server, and the connection closes after the script's reply.
//!
//! Redis's other mode, `SCRIPT DEBUG YES`, forks the server so that the script's writes are
//! thrown away with the child: replikv does not fork (see DESIGN's forkless snapshots), so
//! that mode is refused with a pointer to SYNC.
//!
//! The texts, the line formats and the wire behaviour follow Redis's `eval.c` (`ldbRepl`,
//! `luaLdbLineHook`, `ldbCatStackValue`, `ldbRedisProtocolToHuman`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use mlua::debug::{Debug, DebugEvent};
use mlua::{Lua, MultiValue, Value, VmState};
use parking_lot::Mutex;

mod inspect;
mod wire;

use inspect::{cat_value, print_locals, print_variable, trace};
use wire::{human_reply, leading_int, parse_command, Parse};

/// The client's connection, lent to the debugger for the length of the session: it reads
/// the debugger's commands and receives its output directly, blocking the script.
pub trait Console: Send + std::fmt::Debug {
    /// Reads what the client sent; 0 when it closed the connection.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize>;
    /// Sends `data` whole (Redis gives this 5 s).
    fn write_all(&mut self, data: &[u8]) -> std::io::Result<()>;
    /// The concrete type back, for the connection to take its socket back.
    fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send>;
}

/// Replies and values longer than this are cut in the log (`maxlen` changes it).
const MAX_LEN_DEFAULT: usize = 256;
/// Breakpoints at most.
const BREAKPOINTS_MAX: usize = 64;
/// Unparsed input the debugger keeps before it gives up on the client.
const MAX_INPUT: usize = 1 << 20;
/// When `busy-reply-threshold` is 0, the time after which a running script stops in the
/// debugger ("timeout reached, infinite loop?").
const DEFAULT_TIMEOUT_MS: u64 = 5000;

/// Why the session's hook raises: the script ends with this error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abort(pub String);

/// One debugging session.
#[derive(Debug)]
pub struct Ldb {
    console: Box<dyn Console>,
    /// The script's source, one entry per line.
    lines: Vec<Vec<u8>>,
    breakpoints: Vec<i64>,
    /// Stop at the next line.
    step: bool,
    /// `redis.breakpoint()` was called: stop at the next line.
    lua_breakpoint: bool,
    /// 0: no limit.
    maxlen: usize,
    maxlen_hint_sent: bool,
    logs: Vec<Vec<u8>>,
    input: Vec<u8>,
    current_line: i64,
    /// Since the last stop: a script running this long without one stops ("timeout").
    since_stop: Instant,
    timeout: Duration,
}

impl Ldb {
    /// A session for the script `source`, talking over `console`. `threshold_ms` is
    /// `busy-reply-threshold`.
    pub fn new(console: Box<dyn Console>, source: &[u8], threshold_ms: u64) -> Ldb {
        let mut source = source;
        while let [rest @ .., b'\n' | b'\r'] = source {
            source = rest;
        }
        let timeout_ms = if threshold_ms == 0 {
            DEFAULT_TIMEOUT_MS
        } else {
            threshold_ms
        };
        Ldb {
            console,
            lines: source.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect(),
            breakpoints: Vec::new(),
            step: true,
            lua_breakpoint: false,
            maxlen: MAX_LEN_DEFAULT,
            maxlen_hint_sent: false,
            logs: Vec::new(),
            input: Vec::new(),
            current_line: 0,
            since_stop: Instant::now(),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    /// Ends the session: the remaining log and an `<endsession>` mark go out, and the
    /// connection is handed back.
    pub fn end(mut self) -> Box<dyn Console> {
        self.log(b"<endsession>".to_vec());
        self.send_logs();
        self.console
    }

    /// Stepping: what the script's commands do is logged (Redis's `ldbIsEnabled`).
    pub fn stepping(&self) -> bool {
        self.step
    }

    fn log(&mut self, entry: Vec<u8>) {
        self.logs.push(entry);
    }

    fn log_text(&mut self, entry: &str) {
        self.log(entry.as_bytes().to_vec());
    }

    /// Logs `entry`, cut at `maxlen` (with a hint, once, that `maxlen 0` lifts the limit).
    fn log_with_maxlen(&mut self, mut entry: Vec<u8>) {
        let trimmed = self.maxlen != 0 && entry.len() > self.maxlen;
        if trimmed {
            entry.truncate(self.maxlen);
            entry.extend_from_slice(b" ...");
        }
        self.log(entry);
        if trimmed && !self.maxlen_hint_sent {
            self.maxlen_hint_sent = true;
            self.log_text(
                "<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.",
            );
        }
    }

    /// Sends the log as an array of status replies (line breaks become spaces) and empties
    /// it. A failed write shows at the next read.
    fn send_logs(&mut self) {
        let mut proto = format!("*{}\r\n", self.logs.len()).into_bytes();
        for entry in self.logs.drain(..) {
            proto.push(b'+');
            proto.extend(
                entry
                    .iter()
                    .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            proto.extend_from_slice(b"\r\n");
        }
        let _ = self.console.write_all(&proto);
    }

    /// `<redis> cmd args...` before a command the script runs (ten arguments at most).
    pub fn log_command(&mut self, argv: &[Bytes]) {
        let mut entry = b"<redis>".to_vec();
        for (j, arg) in argv.iter().enumerate() {
            if j == 10 {
                entry.extend_from_slice(format!(" ... ({} more)", argv.len() - j - 1).as_bytes());
                break;
            }
            entry.push(b' ');
            entry.extend_from_slice(arg);
        }
        self.log(entry);
    }

    /// `<reply> ...`: a command's RESP reply, in Redis's human form.
    pub fn log_reply(&mut self, resp: &[u8]) {
        let mut entry = b"<reply> ".to_vec();
        human_reply(resp, &mut entry);
        self.log_with_maxlen(entry);
    }

    /// `<error> ...`: a command the script called was refused.
    pub fn log_error(&mut self, message: &str) {
        self.log(format!("<error> {message}").into_bytes());
    }

    /// `redis.debug(...)`: the values, comma separated, with the current line.
    pub fn log_debug(&mut self, args: &MultiValue) {
        let mut entry = format!("<debug> line {}: ", self.current_line).into_bytes();
        for (i, value) in args.iter().enumerate() {
            if i > 0 {
                entry.extend_from_slice(b", ");
            }
            cat_value(value, 0, &mut entry);
        }
        self.log(entry);
    }

    /// `redis.breakpoint()`: stop at the next line.
    pub fn set_lua_breakpoint(&mut self) {
        self.lua_breakpoint = true;
    }

    fn source_line(&self, line: i64) -> &[u8] {
        usize::try_from(line - 1)
            .ok()
            .and_then(|i| self.lines.get(i))
            .map_or(b"<out of range source code line>".as_slice(), Vec::as_slice)
    }

    fn is_breakpoint(&self, line: i64) -> bool {
        self.breakpoints.contains(&line)
    }

    fn log_source_line(&mut self, line: i64) {
        let prefix = match (self.current_line == line, self.is_breakpoint(line)) {
            (true, true) => "->#",
            (true, false) => "-> ",
            (false, true) => "  #",
            (false, false) => "   ",
        };
        let mut entry = format!("{prefix}{line:<3} ").into_bytes();
        entry.extend_from_slice(self.source_line(line));
        self.log(entry);
    }

    /// Lines within `context` of `around` (every line when `around` is 0).
    fn list(&mut self, around: i64, context: i64) {
        for line in 1..=self.lines.len() as i64 {
            if around != 0 && (around - line).abs() > context {
                continue;
            }
            self.log_source_line(line);
        }
    }

    /// `break`: lists, adds (`N`), removes (`-N`) or clears (`0`) breakpoints.
    fn break_command(&mut self, argv: &[Vec<u8>]) {
        if argv.len() == 1 {
            if self.breakpoints.is_empty() {
                self.log_text("No breakpoints set. Use 'b <line>' to add one.");
            } else {
                self.log_text(&format!("{} breakpoints set:", self.breakpoints.len()));
                for line in self.breakpoints.clone() {
                    self.log_source_line(line);
                }
            }
            return;
        }
        for arg in &argv[1..] {
            let Some(line) = std::str::from_utf8(arg)
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
            else {
                let mut entry = b"Invalid argument:'".to_vec();
                entry.extend_from_slice(arg);
                entry.push(b'\'');
                self.log(entry);
                continue;
            };
            if line == 0 {
                self.breakpoints.clear();
                self.log_text("All breakpoints removed.");
            } else if line > 0 {
                if self.breakpoints.len() == BREAKPOINTS_MAX {
                    self.log_text("Too many breakpoints set.");
                } else if line <= self.lines.len() as i64 && !self.is_breakpoint(line) {
                    self.breakpoints.push(line);
                    self.list(line, 1);
                } else {
                    self.log_text("Wrong line number.");
                }
            } else if let Some(i) = self.breakpoints.iter().position(|&b| b == -line) {
                self.breakpoints.remove(i);
                self.log_text("Breakpoint removed.");
            } else {
                self.log_text("No breakpoint in the specified line.");
            }
        }
    }

    fn maxlen_command(&mut self, argv: &[Vec<u8>]) {
        if let Some(arg) = argv.get(1) {
            let value = leading_int(arg);
            self.maxlen_hint_sent = true;
            self.maxlen = match value {
                v if v <= 0 => 0,
                v if v <= 60 => 60,
                v => v as usize,
            };
        }
        let text = match self.maxlen {
            0 => "<value> replies are unlimited.".to_string(),
            n => format!("<value> replies are truncated at {n} bytes."),
        };
        self.log_text(&text);
    }

    fn help(&mut self) {
        for line in HELP {
            self.log_text(line);
        }
    }

    /// The next complete command of the client, reading as needed. `Err` ends the script
    /// (a protocol error, an input flood); `Ok(None)` means the client is gone.
    fn read_command(&mut self) -> Result<Option<Vec<Vec<u8>>>, Abort> {
        loop {
            match parse_command(&self.input) {
                Parse::Command(argv) => {
                    self.input.clear();
                    return Ok(Some(argv));
                }
                Parse::Invalid => return Err(Abort("protocol error".into())),
                Parse::Incomplete => {}
            }
            let mut buf = [0u8; 1024];
            match self.console.read(&mut buf) {
                Ok(n) if n > 0 => self.input.extend_from_slice(&buf[..n]),
                _ => {
                    // The script goes on without the client.
                    self.step = false;
                    self.breakpoints.clear();
                    return Ok(None);
                }
            }
            if self.input.len() > MAX_INPUT {
                self.input.clear();
                return Err(Abort("max client buffer reached".into()));
            }
        }
    }
}

/// What the hook needs from the interpreter while the session runs.
pub struct Session<'a> {
    /// The session (taken out while the debugger runs Lua code, which logs through it).
    pub slot: &'a Mutex<Option<Ldb>>,
    /// The interpreter.
    pub lua: &'a Lua,
}

/// Redis's `luaLdbLineHook`, for each line and every `HOOK_INSTRUCTIONS` instructions of
/// the script: stops on a step, a breakpoint, `redis.breakpoint()` or a script that ran
/// past the time limit without a stop, and runs the debugger's commands until one resumes.
pub fn on_hook(session: &Session, debug: &Debug) -> Result<VmState, Abort> {
    let line = debug.current_line().map_or(-1, |l| l as i64);
    let in_script = debug
        .source()
        .short_src
        .as_deref()
        .is_some_and(|s| s.contains("user_script"));
    let is_count = debug.event() == DebugEvent::Count;
    let mut guard = session.slot.lock();
    let Some(ldb) = guard.as_mut() else {
        return Ok(VmState::Continue);
    };
    ldb.current_line = line;
    let bp = ldb.is_breakpoint(line) || ldb.lua_breakpoint;
    if !in_script {
        return Ok(VmState::Continue);
    }
    let mut timeout = false;
    if is_count && !ldb.step && !bp {
        if ldb.since_stop.elapsed() < ldb.timeout {
            return Ok(VmState::Continue);
        }
        timeout = true;
        ldb.step = true;
    }
    if !(ldb.step || bp) {
        return Ok(VmState::Continue);
    }
    let reason = if bp && ldb.lua_breakpoint {
        "redis.breakpoint() called"
    } else if bp {
        "break point"
    } else if timeout {
        "timeout reached, infinite loop?"
    } else {
        "step over"
    };
    ldb.step = false;
    ldb.lua_breakpoint = false;
    ldb.log_text(&format!("* Stopped at {line}, stop reason = {reason}"));
    ldb.log_source_line(line);
    ldb.send_logs();
    drop(guard);
    let client_gone = !repl(session)?;
    if client_gone && timeout {
        return Err(Abort(
            "timeout during Lua debugging with client closing connection".into(),
        ));
    }
    if let Some(ldb) = session.slot.lock().as_mut() {
        ldb.since_stop = Instant::now();
    }
    Ok(VmState::Continue)
}

/// Redis's `ldbRepl`: runs the client's debugger commands until one resumes the script.
/// Returns false when the client went away (the script then runs on, unattended).
fn repl(session: &Session) -> Result<bool, Abort> {
    loop {
        let argv = {
            let mut guard = session.slot.lock();
            let Some(ldb) = guard.as_mut() else {
                return Ok(false);
            };
            match ldb.read_command()? {
                Some(argv) => argv,
                None => return Ok(false),
            }
        };
        // Redis compares names with strcasecmp: a name stops at its first NUL.
        let name = argv[0].split(|&b| b == 0).next().unwrap_or_default();
        let is = |short: &str, long: &str| {
            name.eq_ignore_ascii_case(short.as_bytes())
                || name.eq_ignore_ascii_case(long.as_bytes())
        };
        if is("s", "step") || is("n", "next") {
            if let Some(ldb) = session.slot.lock().as_mut() {
                ldb.step = true;
            }
            return Ok(true);
        }
        if is("c", "continue") {
            return Ok(true);
        }
        if is("a", "abort") {
            return Err(Abort("script aborted for user request".into()));
        }
        // Commands that run Lua code log through the session: it is not held meanwhile.
        if is("e", "eval") {
            let entry = eval_fragment(session.lua, &argv[1..]);
            with_ldb(session.slot, |ldb| ldb.log_with_maxlen(entry));
        } else if is("r", "redis") && argv.len() > 1 {
            run_redis(session, &argv[1..]);
        } else if is("p", "print") {
            let entries = match argv.get(1) {
                Some(var) => vec![print_variable(session.lua, var)],
                None => print_locals(session.lua),
            };
            with_ldb(session.slot, |ldb| {
                for (entry, trimmed) in entries {
                    if trimmed {
                        ldb.log_with_maxlen(entry);
                    } else {
                        ldb.log(entry);
                    }
                }
            });
        } else if is("t", "trace") {
            let frames = trace(session.lua);
            with_ldb(session.slot, |ldb| {
                if frames.is_empty() {
                    ldb.log_text("<error> Can't retrieve Lua stack.");
                }
                for (label, line) in frames {
                    ldb.log_text(&label);
                    ldb.log_source_line(line);
                }
            });
        } else {
            with_ldb(session.slot, |ldb| {
                if is("h", "help") {
                    ldb.help();
                } else if is("m", "maxlen") {
                    ldb.maxlen_command(&argv);
                } else if is("b", "break") {
                    ldb.break_command(&argv);
                } else if is("l", "list") {
                    let mut around = ldb.current_line;
                    if let Some(n) = argv.get(1).map(|a| leading_int(a)).filter(|&n| n > 0) {
                        around = n;
                    }
                    let context = argv.get(2).map_or(5, |a| leading_int(a));
                    ldb.list(around, context);
                } else if is("w", "whole") {
                    ldb.list(1, 1_000_000);
                } else {
                    ldb.log_text(
                        "<error> Unknown Redis Lua debugger command or wrong number of arguments.",
                    );
                }
            });
        }
        with_ldb(session.slot, Ldb::send_logs);
    }
}

/// Runs `f` on the session in `slot`, if one is open.
pub fn with_ldb(slot: &Mutex<Option<Ldb>>, f: impl FnOnce(&mut Ldb)) {
    if let Some(ldb) = slot.lock().as_mut() {
        f(ldb);
    }
}

/// `eval <code>`: runs the fragment (as an expression first, then as a statement) in a
/// frame of its own; the log line shows its value or its error.
fn eval_fragment(lua: &Lua, words: &[Vec<u8>]) -> Vec<u8> {
    let code = words.join(&b' ');
    let mut expression = b"return ".to_vec();
    expression.extend_from_slice(&code);
    let compiled = lua
        .load(&expression[..])
        .set_name("@ldb_eval")
        .into_function()
        .or_else(|_| lua.load(&code[..]).set_name("@ldb_eval").into_function());
    let result = compiled.and_then(|f| f.call::<Value>(()));
    match result {
        Ok(value) => {
            let mut entry = b"<retval> ".to_vec();
            cat_value(&value, 0, &mut entry);
            entry
        }
        Err(e) => format!("<error> {}", lua_error_text(&e)).into_bytes(),
    }
}

/// Lua's own message of an error (a syntax error's, or what the code raised).
fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        // mlua adds the traceback of the call from Rust; Redis shows the message alone.
        mlua::Error::RuntimeError(message) => message
            .split("\nstack traceback:")
            .next()
            .unwrap_or_default()
            .to_string(),
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        other => other.to_string(),
    }
}

/// `redis <cmd> ...`: runs the command through `redis.call` with logging on, so that the
/// command and its reply (or its refusal) show in the log.
fn run_redis(session: &Session, argv: &[Vec<u8>]) {
    with_ldb(session.slot, |ldb| ldb.step = true);
    let call = session
        .lua
        .globals()
        .get::<mlua::Table>("redis")
        .and_then(|redis| redis.get::<mlua::Function>("call"));
    if let Ok(call) = call {
        let args: mlua::Result<Vec<mlua::LuaString>> =
            argv.iter().map(|a| session.lua.create_string(a)).collect();
        if let Ok(args) = args {
            let _ = call.call::<Value>(MultiValue::from_iter(args.into_iter().map(Value::String)));
        }
    }
    with_ldb(session.slot, |ldb| ldb.step = false);
}

/// The `help` text.
const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Script {
        input: std::collections::VecDeque<Vec<u8>>,
        output: std::sync::Arc<Mutex<Vec<u8>>>,
    }

    impl Console for Script {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some(chunk) = self.input.pop_front() else {
                return Ok(0);
            };
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(chunk.len())
        }
        fn write_all(&mut self, data: &[u8]) -> std::io::Result<()> {
            self.output.lock().extend_from_slice(data);
            Ok(())
        }
        fn into_any(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
            self
        }
    }

    #[test]
    fn breakpoints_list_and_maxlen_log_as_redis() {
        let output = std::sync::Arc::new(Mutex::new(Vec::new()));
        let console = Script {
            input: Default::default(),
            output: output.clone(),
        };
        let mut ldb = Ldb::new(Box::new(console), b"local a = 1\nreturn a\n\n", 0);
        assert_eq!(ldb.lines.len(), 2, "trailing line feeds are not lines");
        ldb.current_line = 1;
        ldb.break_command(&[b"b".to_vec(), b"2".to_vec(), b"9".to_vec(), b"x".to_vec()]);
        ldb.break_command(&[b"b".to_vec()]);
        ldb.break_command(&[b"b".to_vec(), b"-2".to_vec(), b"-2".to_vec()]);
        ldb.maxlen_command(&[b"m".to_vec(), b"10".to_vec()]);
        let digits = "0123456789".repeat(7);
        ldb.log_reply(format!("$70\r\n{digits}\r\n").as_bytes());
        ldb.send_logs();
        let text = String::from_utf8(output.lock().clone()).unwrap();
        let expected = [
            "-> 1   local a = 1",
            "  #2   return a",
            "Wrong line number.",
            "Invalid argument:'x'",
            "1 breakpoints set:",
            "  #2   return a",
            "Breakpoint removed.",
            "No breakpoint in the specified line.",
            "<value> replies are truncated at 60 bytes.",
            // 60 bytes, then the cut mark; no hint: `maxlen` was used.
            &format!("<reply> \"{} ...", &digits[..51]),
        ];
        let mut proto = format!("*{}\r\n", expected.len());
        for line in expected {
            proto.push_str(&format!("+{line}\r\n"));
        }
        assert_eq!(text, proto);
    }
}
