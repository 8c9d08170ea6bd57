// acme/motd-c: an imgb provisioner in C against docs/plugin-abi.md alone (no SDK, no libc).
// Build: clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export-dynamic -o motd-c.wasm motd.c
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

// Extism's kernel (extism:host/env).
IMPORT("extism:host/env", "input_length") uint64_t input_length(void);
IMPORT("extism:host/env", "input_offset") uint64_t input_offset(void);
IMPORT("extism:host/env", "length") uint64_t block_length(uint64_t block);
IMPORT("extism:host/env", "free") void block_free(uint64_t block);
IMPORT("extism:host/env", "output_set") void output_set(uint64_t block, uint64_t len);
IMPORT("extism:host/env", "error_set") void error_set(uint64_t block);
// imgb host functions (extism:host/user).
IMPORT("extism:host/user", "block_read") uint64_t block_read(uint64_t block, uint64_t dst);
IMPORT("extism:host/user", "block_write") uint64_t block_write(uint64_t src, uint64_t len);
IMPORT("extism:host/user", "ui_say") uint64_t ui_say(uint64_t request);
IMPORT("extism:host/user", "comm_start") uint64_t comm_start(uint64_t request);

// A bump allocator over a static arena, reset at the start of every export call.
static char arena[1 << 20];
static uint32_t used;
static char *take(uint32_t n) {
  char *p = arena + used;
  used += (n + 7) & ~7u;
  return p;
}

static uint32_t len(const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
}

// Appends `s` to `dst` at `*at`; with `quote`, as the body of a JSON string.
static void put(char *dst, uint32_t *at, const char *s, uint32_t n, int quote) {
  for (uint32_t i = 0; i < n; i++) {
    char c = s[i];
    if (quote && (c == '"' || c == '\\')) dst[(*at)++] = '\\';
    dst[(*at)++] = c;
  }
}

// The call's input, NUL-terminated.
static char *input(void) {
  uint32_t n = (uint32_t)input_length();
  char *buf = take(n + 1);
  if (n) block_read(input_offset(), (uint64_t)(uintptr_t)buf);
  buf[n] = 0;
  return buf;
}

// The string value of the first "key": "..." in `json` (no escapes in the value), or 0.
static const char *string_field(const char *json, const char *key, uint32_t *out_len) {
  uint32_t k = len(key);
  for (const char *p = json; *p; p++) {
    if (p[0] != '"') continue;
    uint32_t i = 0;
    while (i < k && p[1 + i] == key[i]) i++;
    if (i != k || p[1 + k] != '"') continue;
    const char *v = p + 2 + k;
    while (*v == ' ' || *v == ':') v++;
    if (*v != '"') return 0;
    v++;
    uint32_t n = 0;
    while (v[n] && v[n] != '"') n++;
    *out_len = n;
    return v;
  }
  return 0;
}

static int32_t answer(const char *json) {
  uint32_t n = len(json);
  output_set(block_write((uint64_t)(uintptr_t)json, n), n);
  return 0;
}

static int32_t fail(const char *message) {
  error_set(block_write((uint64_t)(uintptr_t)message, len(message)));
  return 1;
}

// A host call: JSON request in, JSON reply out (freed here; the reply is the plugin's to free).
static char *call(uint64_t (*fn)(uint64_t), const char *request, uint32_t n) {
  uint64_t reply = fn(block_write((uint64_t)(uintptr_t)request, n));
  uint32_t m = (uint32_t)block_length(reply);
  char *buf = take(m + 1);
  block_read(reply, (uint64_t)(uintptr_t)buf);
  block_free(reply);
  buf[m] = 0;
  return buf;
}

EXPORT("describe") int32_t describe(void) {
  used = 0;
  return answer(
      "{\"kind\":\"provisioner\",\"name\":\"acme/motd-c\",\"abi\":\"imgb-plugin/1\",\"version\":\"0.1.0\","
      "\"schema\":{\"fields\":[{\"name\":\"message\",\"type\":\"string\",\"required\":true}],\"allow_unknown\":false},"
      "\"capabilities\":[\"communicator\"]}");
}

// Input: {"configs": [{...}, ...]}; this plugin reads "message" from the first config that has it.
EXPORT("prepare") int32_t prepare(void) {
  used = 0;
  const char *in = input();
  uint32_t n = 0;
  const char *message = string_field(in, "message", &n);
  if (!message || n == 0) return answer("{\"errors\":[\"message must not be empty\"],\"warnings\":[]}");
  char *out = take(n + 64);
  uint32_t at = 0;
  put(out, &at, "{\"config\":{\"message\":\"", 22, 0);
  put(out, &at, message, n, 0);
  put(out, &at, "\"},\"warnings\":[]}", 17, 0);
  out[at] = 0;
  return answer(out);
}

// Input: {"config": {...prepared...}, "build": {...}, ...}: says the message, then writes it on the machine.
EXPORT("provision") int32_t provision(void) {
  used = 0;
  const char *in = input();
  uint32_t n = 0;
  const char *message = string_field(in, "message", &n);
  if (!message) return fail("no message in the prepared config");
  char *req = take(n + 32);
  uint32_t at = 0;
  put(req, &at, "{\"message\":\"", 12, 0);
  put(req, &at, message, n, 1);
  put(req, &at, "\"}", 2, 0);
  char *reply = call(ui_say, req, at);
  uint32_t e = 0;
  if (string_field(reply, "error", &e)) return fail("ui_say was refused");
  const char *cmd = "{\"command\":\"echo motd written by C\",\"output\":\"ui\"}";
  reply = call(comm_start, cmd, len(cmd));
  if (string_field(reply, "error", &e)) return fail("comm_start failed");
  return answer("{}");
}
