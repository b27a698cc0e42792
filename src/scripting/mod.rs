//! Lua scripting as Redis 7.0 has it: EVAL scripts cached by SHA-1 and function libraries,
//! each family in its own interpreter (as Redis keeps one for EVAL and one for functions),
//! and the state other clients see while a script runs ([`control::RunControl`]).
//!
//! This layer knows Lua and the reply format, not commands: a script's `redis.call` goes
//! through the [`vm::Host`] the command layer hands to [`vm::ScriptVm::run`].

pub mod control;
pub mod convert;
pub mod debugger;
pub mod functions;
pub mod libs;
mod rand48;
pub mod shebang;
pub mod vm;

use std::sync::Arc;

use bytes::Bytes;
use mlua::Function;

use control::RunControl;
use shebang::ScriptFlags;
use vm::ScriptVm;

/// One cached EVAL script.
#[derive(Debug, Clone)]
pub struct EvalScript {
    /// The source as sent.
    pub body: Bytes,
    /// Its shebang flags (or compatibility mode).
    pub flags: ScriptFlags,
    /// The compiled chunk.
    pub function: Function,
}

/// The EVAL script cache and its interpreter.
#[derive(Debug)]
pub struct EvalCache {
    vm: ScriptVm,
    control: Arc<RunControl>,
    scripts: hashbrown::HashMap<String, EvalScript>,
    /// Bytes of script bodies and SHA-1s held (INFO used_memory_scripts_eval).
    bodies_memory: usize,
}

/// SHA-1 of `data` in lower-case hex, as EVALSHA names scripts.
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    vm::hex_digest(&Sha1::digest(data))
}

impl EvalCache {
    /// An empty cache with a fresh interpreter.
    pub fn new(control: Arc<RunControl>) -> mlua::Result<EvalCache> {
        Ok(EvalCache {
            vm: ScriptVm::new(control.clone())?,
            control,
            scripts: hashbrown::HashMap::new(),
            bodies_memory: 0,
        })
    }

    /// The interpreter (a handle: the engine lock stays free for the script's commands).
    pub fn vm(&self) -> ScriptVm {
        self.vm.clone()
    }

    /// The script whose SHA-1 is `sha` (lower case).
    pub fn get(&self, sha: &str) -> Option<&EvalScript> {
        self.scripts.get(sha)
    }

    /// Compiles and caches `body` (SCRIPT LOAD, EVAL of a new script); returns its SHA-1.
    /// The error is the reply text (`Error compiling script (new function): ...`).
    pub fn create(&mut self, body: &Bytes) -> Result<String, String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let header = shebang::parse_eval_header(body).map_err(|e| format!("ERR {e}"))?;
        let function = self
            .vm
            .compile(&body[header.shebang_len..], "@user_script")
            .map_err(|e| format!("ERR Error compiling script (new function): {e}"))?;
        self.bodies_memory += body.len() + sha.len();
        self.scripts.insert(
            sha.clone(),
            EvalScript {
                body: body.clone(),
                flags: header.flags,
                function,
            },
        );
        Ok(sha)
    }

    /// SCRIPT FLUSH: forgets every script and starts a new interpreter.
    pub fn flush(&mut self) -> mlua::Result<()> {
        *self = EvalCache::new(self.control.clone())?;
        Ok(())
    }

    /// Number of cached scripts (INFO number_of_cached_scripts).
    pub fn len(&self) -> usize {
        self.scripts.len()
    }

    /// True when no script is cached.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Interpreter memory (INFO used_memory_lua / used_memory_vm_eval).
    pub fn vm_memory(&self) -> usize {
        self.vm.memory()
    }

    /// Memory held by the cache's bookkeeping (INFO used_memory_scripts_eval).
    pub fn scripts_memory(&self) -> usize {
        self.bodies_memory + self.scripts.len() * 64
    }
}

/// Everything scripting keeps in the engine.
#[derive(Debug)]
pub struct Scripts {
    /// The running script, as other clients see it.
    pub control: Arc<RunControl>,
    /// EVAL's script cache.
    pub eval: EvalCache,
    /// Function libraries.
    pub functions: functions::Functions,
    /// Scripts may run commands flagged `noscript` (DEBUG SET-DISABLE-DENY-SCRIPTS, for
    /// tests).
    pub noscript_allowed: bool,
}

impl Scripts {
    /// Empty caches with fresh interpreters. Starting an interpreter fails only when memory
    /// is exhausted, which the server cannot start without anyway.
    pub fn new() -> Scripts {
        let control = Arc::new(RunControl::default());
        let eval = EvalCache::new(control.clone()).expect("the Lua interpreter starts");
        let functions =
            functions::Functions::new(control.clone()).expect("the Lua interpreter starts");
        Scripts {
            control,
            eval,
            functions,
            noscript_allowed: false,
        }
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Scripts::new()
    }
}
