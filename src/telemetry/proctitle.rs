//! The process title: what `ps` and `/proc/<pid>/cmdline` show for the server, as Redis
//! sets it (`redis-server 127.0.0.1:6379`, from `proc-title-template`, which the
//! configuration expands), so operators can tell instances apart on one host.
//!
//! Linux has no call for it: like Redis (and PostgreSQL, nginx), the title is written over
//! the memory that holds the program's arguments, extended over the environment strings
//! that follow them, once those are copied elsewhere. The argument vector's address is
//! captured at start-up by a function the C runtime calls from `.init_array` with
//! `(argc, argv, envp)`, the way the standard library captures it.

pub use imp::{argv0, init, set};

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::ffi::{c_char, c_int, CStr, CString};
    use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

    use parking_lot::Mutex;

    static ARGC: AtomicUsize = AtomicUsize::new(0);
    static ARGV: AtomicPtr<*mut c_char> = AtomicPtr::new(std::ptr::null_mut());
    static ENVP: AtomicPtr<*mut c_char> = AtomicPtr::new(std::ptr::null_mut());

    /// The writable area (arguments and the environment strings after them), once
    /// [`init`] freed it, and the first argument as it was.
    static AREA: Mutex<Option<Area>> = Mutex::new(None);

    struct Area {
        start: usize,
        len: usize,
        argv0: String,
    }

    extern "C" fn capture(argc: c_int, argv: *mut *mut c_char, envp: *mut *mut c_char) {
        ARGC.store(usize::try_from(argc).unwrap_or(0), Ordering::Relaxed);
        ARGV.store(argv, Ordering::Relaxed);
        ENVP.store(envp, Ordering::Relaxed);
    }

    #[used]
    #[link_section = ".init_array"]
    static CAPTURE: extern "C" fn(c_int, *mut *mut c_char, *mut *mut c_char) = capture;

    /// Frees the area behind the arguments for titles: copies the environment strings that
    /// follow them elsewhere and points the environment at the copies. Call once, first
    /// thing in `main`, before any other thread starts and after the arguments are read
    /// (the standard library reads them from the same memory).
    pub fn init() {
        let mut area = AREA.lock();
        if area.is_some() {
            return;
        }
        let argc = ARGC.load(Ordering::Relaxed);
        let argv = ARGV.load(Ordering::Relaxed);
        let envp = ENVP.load(Ordering::Relaxed);
        if argc == 0 || argv.is_null() {
            return;
        }
        // SAFETY: argv and envp are the vectors the C runtime passed to the program:
        // `argc` valid pointers then NULL, and a NULL-terminated list. Strings are read up
        // to their NUL; the area is only extended over strings laid out one after the
        // other, as the kernel places them. The environment entries are replaced by leaked
        // copies before their old memory is reused, while no other thread runs.
        unsafe {
            let first = *argv;
            if first.is_null() {
                return;
            }
            let argv0 = CStr::from_ptr(first).to_string_lossy().into_owned();
            let start = first as usize;
            let mut end = start;
            for i in 0..argc {
                let arg = *argv.add(i);
                if arg.is_null() || arg as usize != end {
                    break;
                }
                end = arg as usize + CStr::from_ptr(arg).to_bytes().len() + 1;
            }
            if !envp.is_null() {
                let mut i = 0;
                loop {
                    let var = *envp.add(i);
                    if var.is_null() {
                        break;
                    }
                    let copy = CString::from(CStr::from_ptr(var));
                    if var as usize == end {
                        end = var as usize + copy.as_bytes().len() + 1;
                    }
                    *envp.add(i) = copy.into_raw();
                    i += 1;
                }
            }
            *area = Some(Area {
                start,
                len: end - start,
                argv0,
            });
        }
    }

    /// Shows `title` as the process's command line (cut to the area's size).
    pub fn set(title: &str) {
        let area = AREA.lock();
        let Some(a) = area.as_ref() else {
            return;
        };
        let bytes = title.as_bytes();
        let n = bytes.len().min(a.len.saturating_sub(1));
        // SAFETY: [start, start + len) is the argument and environment string memory
        // `init` took over; nothing else reads it after `init`.
        unsafe {
            let dst = a.start as *mut u8;
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, n);
            std::ptr::write_bytes(dst.add(n), 0, a.len - n);
        }
    }

    /// The program's first argument as it was run (`{title}`).
    pub fn argv0() -> String {
        AREA.lock()
            .as_ref()
            .map(|a| a.argv0.clone())
            .unwrap_or_else(|| std::env::args().next().unwrap_or_default())
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    /// Nothing to prepare where titles are not supported.
    pub fn init() {}

    /// Titles are set on Linux (glibc) only.
    pub fn set(_title: &str) {}

    /// The program's first argument as it was run.
    pub fn argv0() -> String {
        std::env::args().next().unwrap_or_default()
    }
}
