// The ABI benchmark's plugin (bench/plugin-abi/bench.ts), built with the SDK like any plugin:
//   stream  reads the artifact through a byte handle (artifact_pread) in `chunk`-byte reads;
//   sha256  the same, hashing every byte in wasm;
//   now     `count` pure host calls through the SDK (Clock.monotonicMs).
import { Build, Clock, Description, HostCall, Json, Plugin, Prepared, fail, mergeConfigs, ok } from "../../../../plugins-wasm/sdk/assembly/sdk";
import { loadBytes, storeBytes } from "../../../../plugins-wasm/sdk/assembly/host";
import { parseJson } from "../../../../plugins-wasm/sdk/assembly/json";

@external("extism:host/user", "artifact_pread") declare function artifact_pread(h: u64, offset: u64, ptr: u64, len: u64): i64;
@external("extism:host/user", "artifact_close") declare function artifact_close(h: u64): i64;
@external("extism:host/user", "now") declare function host_now(p: u64): u64;

export function describe(): i32 {
  const d = new Description("post-processor", "abi-bench", "0.0.1")
    .field("action", "string", true)
    .field("count", "number")
    .field("chunk", "number")
    .field("path", "string")
    .capability("artifact_read");
  return ok(d.toJson());
}

export function configure(): i32 {
  return new Prepared().finish(mergeConfigs(Plugin.input()));
}

function result(artifactId: string): i32 {
  return ok(Json.obj().set("artifact", Json.obj().setStr("builder_id", "abi-bench").setStr("id", artifactId).set("files", Json.arr()).setStr("string", "")).setBool("keep", true));
}

// SHA-256 (FIPS 180-4) over plugin memory.
const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

class Sha256 {
  h: StaticArray<u32> = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
  w: StaticArray<u32> = new StaticArray<u32>(64);
  tail: Uint8Array = new Uint8Array(128);
  tailLen: i32 = 0;
  total: u64 = 0;

  block(p: usize): void {
    const w = changetype<usize>(this.w);
    for (let i = 0; i < 16; i++) store<u32>(w + (i << 2), bswap<u32>(load<u32>(p + (i << 2))));
    for (let i = 16; i < 64; i++) {
      const a = load<u32>(w + ((i - 15) << 2));
      const b = load<u32>(w + ((i - 2) << 2));
      const s0 = rotr<u32>(a, 7) ^ rotr<u32>(a, 18) ^ (a >>> 3);
      const s1 = rotr<u32>(b, 17) ^ rotr<u32>(b, 19) ^ (b >>> 10);
      store<u32>(w + (i << 2), load<u32>(w + ((i - 16) << 2)) + s0 + load<u32>(w + ((i - 7) << 2)) + s1);
    }
    const h = changetype<usize>(this.h);
    const k = changetype<usize>(K);
    let a = load<u32>(h), b = load<u32>(h, 4), c = load<u32>(h, 8), d = load<u32>(h, 12);
    let e = load<u32>(h, 16), f = load<u32>(h, 20), g = load<u32>(h, 24), hh = load<u32>(h, 28);
    for (let i = 0; i < 64; i++) {
      const t1 = hh + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) + load<u32>(k + (i << 2)) + load<u32>(w + (i << 2));
      const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    store<u32>(h, load<u32>(h) + a); store<u32>(h, load<u32>(h, 4) + b, 4); store<u32>(h, load<u32>(h, 8) + c, 8); store<u32>(h, load<u32>(h, 12) + d, 12);
    store<u32>(h, load<u32>(h, 16) + e, 16); store<u32>(h, load<u32>(h, 20) + f, 20); store<u32>(h, load<u32>(h, 24) + g, 24); store<u32>(h, load<u32>(h, 28) + hh, 28);
  }

  update(p: usize, n: i32): void {
    this.total += u64(n);
    const t = this.tail.dataStart;
    while (this.tailLen > 0 && n > 0) {
      store<u8>(t + this.tailLen, load<u8>(p));
      this.tailLen++; p++; n--;
      if (this.tailLen == 64) { this.block(t); this.tailLen = 0; }
    }
    while (n >= 64) { this.block(p); p += 64; n -= 64; }
    for (let i = 0; i < n; i++) store<u8>(t + i, load<u8>(p + i));
    this.tailLen = n;
  }

  hex(): string {
    const bits = this.total << 3;
    const t = this.tail.dataStart;
    store<u8>(t + this.tailLen, 0x80);
    const end = this.tailLen < 56 ? 64 : 128;
    for (let i = this.tailLen + 1; i < end - 8; i++) store<u8>(t + i, 0);
    store<u64>(t + end - 8, bswap<u64>(bits));
    this.block(t);
    if (end == 128) this.block(t + 64);
    let s = "";
    for (let i = 0; i < 8; i++) {
      const v = this.h[i];
      for (let j = 28; j >= 0; j -= 4) s += String.fromCharCode("0123456789abcdef".charCodeAt((v >>> j) & 15));
    }
    return s;
  }
}

export function post_process(): i32 {
  const c = new Build(Plugin.input()).config;
  const action = c.getString("action");
  if (action == "now") {
    const count = i32(c.getNumber("count"));
    let last: f64 = 0;
    for (let i = 0; i < count; i++) {
      const t = Clock.monotonicMs();
      if (t < last) return fail("the monotonic clock went back");
      last = t;
    }
    return result("calls " + count.toString());
  }
  // Where the SDK's time goes: the bare block moves (as C does), then the same plus parsing the reply.
  if (action == "now_raw" || action == "now_parse") {
    const count = i32(c.getNumber("count"));
    const req = Uint8Array.wrap(String.UTF8.encode("{}"));
    let n = 0;
    for (let i = 0; i < count; i++) {
      const reply = loadBytes(host_now(storeBytes(req)));
      if (action == "now_parse" && parseJson(String.UTF8.decode(reply.buffer)).value.getNumber("monotonic_ms") > 0) n++;
    }
    return result("calls " + count.toString() + " " + n.toString());
  }
  if (action == "stream" || action == "sha256") {
    const chunk = i32(c.getNumber("chunk", 8388608));
    const h = u64(HostCall.artifact_open(Json.obj().setStr("path", c.getString("path"))).getNumber("handle"));
    const buf = new Uint8Array(chunk);
    const hash = new Sha256();
    let off: u64 = 0;
    let touched: u64 = 0;
    while (true) {
      const n = artifact_pread(h, off, buf.dataStart, u64(chunk));
      if (n <= 0) break;
      if (action == "sha256") hash.update(buf.dataStart, i32(n));
      else touched += u64(buf[0]); // the trivial work: one byte per read
      off += u64(n);
    }
    artifact_close(h);
    return result(off.toString() + " " + (action == "sha256" ? hash.hex() : touched.toString()));
  }
  return fail("unknown action " + action);
}
