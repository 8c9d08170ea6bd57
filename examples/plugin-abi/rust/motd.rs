// acme/motd-rs: an imgb provisioner in Rust against docs/plugin-abi.md alone (std, no crates).
// Build: rustc --target wasm32-unknown-unknown --crate-type cdylib -C opt-level=2 -C strip=debuginfo -o motd-rs.wasm motd.rs

#[link(wasm_import_module = "extism:host/env")]
extern "C" {
    fn input_length() -> u64;
    fn input_offset() -> u64;
    fn length(block: u64) -> u64;
    fn free(block: u64);
    fn output_set(block: u64, len: u64);
    fn error_set(block: u64);
}

#[link(wasm_import_module = "extism:host/user")]
extern "C" {
    fn block_read(block: u64, dst: u64) -> u64;
    fn block_write(src: u64, len: u64) -> u64;
    fn ui_say(request: u64) -> u64;
    fn comm_start(request: u64) -> u64;
}

fn store(bytes: &[u8]) -> u64 {
    unsafe { block_write(bytes.as_ptr() as u64, bytes.len() as u64) }
}

fn load(block: u64) -> Vec<u8> {
    unsafe {
        let mut buf = vec![0u8; length(block) as usize];
        if !buf.is_empty() {
            block_read(block, buf.as_mut_ptr() as u64);
        }
        buf
    }
}

fn input() -> String {
    unsafe {
        let mut buf = vec![0u8; input_length() as usize];
        if !buf.is_empty() {
            block_read(input_offset(), buf.as_mut_ptr() as u64);
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

fn answer(json: &str) -> i32 {
    unsafe { output_set(store(json.as_bytes()), json.len() as u64) };
    0
}

fn fail(message: &str) -> i32 {
    unsafe { error_set(store(message.as_bytes())) };
    1
}

/// A host call: JSON request in, JSON reply out; the reply block is the plugin's to free.
fn call(f: unsafe extern "C" fn(u64) -> u64, request: &str) -> String {
    unsafe {
        let reply = f(store(request.as_bytes()));
        let text = String::from_utf8_lossy(&load(reply)).into_owned();
        free(reply);
        text
    }
}

/// The string value of the first "key": "..." (no escapes in the value).
fn string_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{}\"", key);
    let at = json.find(&pattern)? + pattern.len();
    let rest = json[at..].trim_start_matches(|c| c == ' ' || c == ':');
    let rest = rest.strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[no_mangle]
pub extern "C" fn describe() -> i32 {
    answer(concat!(
        r#"{"kind":"provisioner","name":"acme/motd-rs","abi":"imgb-plugin/1","version":"0.1.0","#,
        r#""schema":{"fields":[{"name":"message","type":"string","required":true}],"allow_unknown":false},"#,
        r#""capabilities":["communicator"]}"#
    ))
}

#[no_mangle]
pub extern "C" fn prepare() -> i32 {
    let input = input();
    match string_field(&input, "message") {
        Some(m) if !m.is_empty() => answer(&format!(r#"{{"config":{{"message":"{}"}},"warnings":[]}}"#, m)),
        _ => answer(r#"{"errors":["message must not be empty"],"warnings":[]}"#),
    }
}

#[no_mangle]
pub extern "C" fn provision() -> i32 {
    let input = input();
    let message = match string_field(&input, "message") {
        Some(m) => m.to_string(),
        None => return fail("no message in the prepared config"),
    };
    if string_field(&call(ui_say, &format!(r#"{{"message":"{}"}}"#, quote(&message))), "error").is_some() {
        return fail("ui_say was refused");
    }
    let reply = call(comm_start, r#"{"command":"echo motd written by Rust","output":"ui"}"#);
    if let Some(e) = string_field(&reply, "error") {
        return fail(e);
    }
    answer("{}")
}
