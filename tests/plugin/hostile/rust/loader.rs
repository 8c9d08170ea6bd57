// A hostile module in Rust (Debian's rustc, wasm32-unknown-unknown, std, no crates) that attacks the
// load: with `--cfg initialize` it spins in `_initialize`, with `--cfg start` in `_start` (both run
// by Extism before any export), with `--cfg big_data` it carries a 12 MiB data segment. Without a
// cfg it is a well-behaved provisioner. Built by tests/plugin/hostile-c.test.ts.

#[link(wasm_import_module = "extism:host/env")]
extern "C" {
    fn output_set(block: u64, len: u64);
}
#[link(wasm_import_module = "extism:host/user")]
extern "C" {
    fn block_write(src: u64, len: u64) -> u64;
}

fn answer(json: &[u8]) -> i32 {
    unsafe { output_set(block_write(json.as_ptr() as u64, json.len() as u64), json.len() as u64) };
    0
}

#[cfg(initialize)]
#[no_mangle]
pub extern "C" fn _initialize() {
    let mut n: u64 = 0;
    loop {
        // Volatile: the loop is not optimised away.
        unsafe { std::ptr::write_volatile(&mut n, std::ptr::read_volatile(&n).wrapping_add(1)) };
    }
}

#[cfg(start)]
#[no_mangle]
pub extern "C" fn _start() {
    let mut n: u64 = 0;
    loop {
        // Volatile: the loop is not optimised away.
        unsafe { std::ptr::write_volatile(&mut n, std::ptr::read_volatile(&n).wrapping_add(1)) };
    }
}

#[cfg(big_data)]
static BIG: [u8; 12 << 20] = [7; 12 << 20];

#[no_mangle]
pub extern "C" fn describe() -> i32 {
    #[cfg(big_data)]
    unsafe {
        std::ptr::read_volatile(&BIG[12345]);
    }
    answer(br#"{"kind":"provisioner","name":"acme/loader","abi":"imgb-plugin/1","version":"0.1.0","schema":{"fields":[],"allow_unknown":true},"capabilities":[]}"#)
}

#[no_mangle]
pub extern "C" fn prepare() -> i32 {
    answer(br#"{"config":{},"warnings":[]}"#)
}

#[no_mangle]
pub extern "C" fn provision() -> i32 {
    answer(b"{}")
}
