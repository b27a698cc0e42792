//! Compiles the small C file that reproduces Redis's long-double arithmetic (see
//! csrc/numeric.c for why it is C).

fn main() {
    println!("cargo:rerun-if-changed=csrc/numeric.c");
    cc::Build::new()
        .file("csrc/numeric.c")
        .flag_if_supported("-std=c99")
        .warnings(true)
        .compile("replikv_numeric");
}
