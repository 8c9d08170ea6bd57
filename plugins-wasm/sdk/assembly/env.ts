// Extism's kernel (namespace extism:host/env) as imgb plugins use it: input, output, errors and the
// host's memory blocks. Declared here so the SDK is self-contained (no package to install).
// docs/plugin-abi.md §1 describes the memory model: blocks are separate host buffers named by
// 64-bit offsets; the host frees a host-call request after reading it; the plugin frees a reply
// with `free` once it has read it.
@external("extism:host/env", "input_offset") export declare function input_offset(): u64;
@external("extism:host/env", "input_length") export declare function input_length(): u64;
@external("extism:host/env", "input_load_u8") export declare function input_load_u8(offs: u64): u8;
@external("extism:host/env", "input_load_u64") export declare function input_load_u64(offs: u64): u64;
@external("extism:host/env", "length") export declare function length(offs: u64): u64;
@external("extism:host/env", "alloc") export declare function alloc(n: u64): u64;
@external("extism:host/env", "free") export declare function free(offs: u64): void;
@external("extism:host/env", "output_set") export declare function output_set(offs: u64, n: u64): void;
@external("extism:host/env", "error_set") export declare function error_set(offs: u64): void;
@external("extism:host/env", "store_u8") export declare function store_u8(offs: u64, v: u8): void;
@external("extism:host/env", "load_u8") export declare function load_u8(offs: u64): u8;
@external("extism:host/env", "store_u64") export declare function store_u64(offs: u64, v: u64): void;
@external("extism:host/env", "load_u64") export declare function load_u64(offs: u64): u64;
