// The ABI benchmark's C peer (bench/plugin-abi/bench.ts): a post-processor whose post_process makes
// `count` pure host calls (`now`) straight against docs/plugin-abi.md, no SDK, no libc: a request
// block in, the reply copied out and freed, as a plugin in any language must do at the least.
// Build: clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wl,--export-dynamic -o now-c.wasm now.c
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("extism:host/env", "input_length") uint64_t input_length(void);
IMPORT("extism:host/env", "input_offset") uint64_t input_offset(void);
IMPORT("extism:host/env", "length") uint64_t block_length(uint64_t block);
IMPORT("extism:host/env", "free") void block_free(uint64_t block);
IMPORT("extism:host/env", "output_set") void output_set(uint64_t block, uint64_t len);
IMPORT("extism:host/env", "error_set") void error_set(uint64_t block);
IMPORT("extism:host/user", "block_read") uint64_t block_read(uint64_t block, uint64_t dst);
IMPORT("extism:host/user", "block_write") uint64_t block_write(uint64_t src, uint64_t len);
IMPORT("extism:host/user", "now") uint64_t now(uint64_t request);

// clang turns copy loops into memcpy calls; without libc, this is it.
void *memcpy(void *dst, const void *src, unsigned long n) {
  volatile char *d = dst; // volatile: or clang makes this loop a memcpy call again
  const char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

static char in[1 << 16];
static char reply[256];

static uint32_t len(const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
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

EXPORT("describe") int32_t describe(void) {
  return answer(
      "{\"kind\":\"post-processor\",\"name\":\"abi-bench-c\",\"abi\":\"imgb-plugin/1\",\"version\":\"0.0.1\","
      "\"schema\":{\"fields\":[{\"name\":\"count\",\"type\":\"number\",\"required\":true}],\"allow_unknown\":false},"
      "\"capabilities\":[]}");
}

// Input {"configs": [{"count": N}]}: passes the first config through.
EXPORT("configure") int32_t configure(void) {
  uint32_t n = (uint32_t)input_length();
  if (n + 64 > sizeof in) return fail("input too large");
  block_read(input_offset(), (uint64_t)(uintptr_t)in);
  in[n] = 0;
  const char *p = in;
  while (*p && *p != '[') p++;
  if (!*p) return fail("no configs");
  const char *q = ++p;
  while (*q && *q != '}') q++;
  static char out[1 << 16];
  uint32_t at = 0;
  const char *head = "{\"config\":";
  for (uint32_t i = 0; head[i]; i++) out[at++] = head[i];
  for (const char *r = p; r <= q; r++) out[at++] = *r;
  const char *tail = ",\"warnings\":[]}";
  for (uint32_t i = 0; tail[i]; i++) out[at++] = tail[i];
  out[at] = 0;
  return answer(out);
}

// Input {"config": {"count": N}, ...}: N calls of `now`, each reply read and freed.
EXPORT("post_process") int32_t post_process(void) {
  uint32_t n = (uint32_t)input_length();
  if (n + 1 > sizeof in) return fail("input too large");
  block_read(input_offset(), (uint64_t)(uintptr_t)in);
  in[n] = 0;
  const char *p = in;
  const char *key = "\"count\":";
  for (; *p; p++) {
    uint32_t i = 0;
    while (key[i] && p[i] == key[i]) i++;
    if (!key[i]) { p += i; break; }
  }
  uint64_t count = 0;
  while (*p == ' ') p++;
  while (*p >= '0' && *p <= '9') count = count * 10 + (uint64_t)(*p++ - '0');
  for (uint64_t i = 0; i < count; i++) {
    uint64_t r = now(block_write((uint64_t)(uintptr_t)"{}", 2));
    uint64_t m = block_length(r);
    if (m == 0 || m >= sizeof reply) return fail("bad reply");
    block_read(r, (uint64_t)(uintptr_t)reply);
    block_free(r);
    if (reply[0] != '{') return fail("reply is not JSON");
  }
  return answer("{\"artifact\":{\"builder_id\":\"abi-bench\",\"id\":\"calls\",\"files\":[],\"string\":\"\"},\"keep\":true}");
}
