// acme/attacker: a hostile post-processor in C (no SDK, no libc), written against docs/plugin-abi.md
// alone. Its config names one `action`; each attacks the kernel, the byte handles or the module's
// limits. Built by tests/plugin/hostile-c.test.ts:
//   clang --target=wasm32 -O2 -mreference-types -nostdlib -Wl,--no-entry -Wl,--export-dynamic
//         -Wl,--growable-table -o attacker.wasm attacker.c
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("extism:host/env", "input_length") uint64_t input_length(void);
IMPORT("extism:host/env", "input_offset") uint64_t input_offset(void);
IMPORT("extism:host/env", "length") uint64_t block_length(uint64_t block);
IMPORT("extism:host/env", "alloc") uint64_t block_alloc(uint64_t n);
IMPORT("extism:host/env", "free") void block_free(uint64_t block);
IMPORT("extism:host/env", "load_u8") uint32_t load_u8(uint64_t addr);
IMPORT("extism:host/env", "store_u64") void store_u64(uint64_t addr, uint64_t v);
IMPORT("extism:host/env", "output_set") void output_set(uint64_t block, uint64_t len);
IMPORT("extism:host/env", "error_set") void error_set(uint64_t block);
IMPORT("extism:host/user", "block_read") uint64_t block_read(uint64_t block, uint64_t dst);
IMPORT("extism:host/user", "block_write") uint64_t block_write(uint64_t src, uint64_t len);
IMPORT("extism:host/user", "ui_say") uint64_t ui_say(uint64_t request);
IMPORT("extism:host/user", "template_render") uint64_t template_render(uint64_t request);
IMPORT("extism:host/user", "hash_files") uint64_t hash_files(uint64_t request);
IMPORT("extism:host/user", "compress_files") uint64_t compress_files(uint64_t request);
IMPORT("extism:host/user", "output_file_read") uint64_t output_file_read(uint64_t request);
IMPORT("extism:host/user", "files_stat") uint64_t files_stat(uint64_t request);
IMPORT("extism:host/user", "plugin_error") uint64_t plugin_error(uint64_t request);
IMPORT("extism:host/user", "artifact_open") uint64_t artifact_open(uint64_t request);
IMPORT("extism:host/user", "artifact_create") uint64_t artifact_create(uint64_t request);
IMPORT("extism:host/user", "artifact_pread") int64_t artifact_pread(uint64_t h, uint64_t off, uint64_t ptr, uint64_t len);
IMPORT("extism:host/user", "artifact_pwrite") int64_t artifact_pwrite(uint64_t h, uint64_t off, uint64_t ptr, uint64_t len);
IMPORT("extism:host/user", "artifact_close") int64_t artifact_close(uint64_t h);

void *memcpy(void *dst, const void *src, unsigned long n) {
  volatile char *d = dst;
  const char *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memset(void *dst, int c, unsigned long n) {
  volatile char *d = dst;
  while (n--) *d++ = (char)c;
  return dst;
}

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

static int eq(const char *a, uint32_t n, const char *b) {
  uint32_t m = len(b);
  if (n != m) return 0;
  for (uint32_t i = 0; i < n; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

static void put(char *dst, uint32_t *at, const char *s, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) dst[(*at)++] = s[i];
}

static void puts_(char *dst, uint32_t *at, const char *s) { put(dst, at, s, len(s)); }

static void put_num(char *dst, uint32_t *at, int64_t v) {
  char tmp[24];
  int k = 0;
  if (v < 0) {
    dst[(*at)++] = '-';
    v = -v;
  }
  do tmp[k++] = (char)('0' + v % 10), v /= 10;
  while (v);
  while (k) dst[(*at)++] = tmp[--k];
}

static char *input(void) {
  uint32_t n = (uint32_t)input_length();
  char *buf = take(n + 1);
  if (n) block_read(input_offset(), (uint64_t)(uintptr_t)buf);
  buf[n] = 0;
  return buf;
}

// The raw (still JSON-escaped) value of the first "key":"..." in `json`, or 0.
static const char *string_field(const char *json, const char *key, uint32_t *out_len) {
  uint32_t k = len(key);
  for (const char *p = json; *p; p++) {
    if (p[0] != '"') continue;
    uint32_t i = 0;
    while (i < k && p[1 + i] == key[i]) i++;
    if (i != k || p[1 + k] != '"' || p[2 + k] != ':' || p[3 + k] != '"') continue;
    const char *v = p + 4 + k;
    uint32_t n = 0;
    while (v[n] && !(v[n] == '"' && v[n - 1] != '\\')) n++;
    *out_len = n;
    return v;
  }
  return 0;
}

static int64_t number_field(const char *json, const char *key) {
  uint32_t k = len(key);
  for (const char *p = json; *p; p++) {
    if (p[0] != '"') continue;
    uint32_t i = 0;
    while (i < k && p[1 + i] == key[i]) i++;
    if (i != k || p[1 + k] != '"' || p[2 + k] != ':') continue;
    int64_t v = 0;
    for (const char *d = p + 3 + k; *d >= '0' && *d <= '9'; d++) v = v * 10 + (*d - '0');
    return v;
  }
  return -1;
}

static int32_t answer(const char *json, uint32_t n) {
  output_set(block_write((uint64_t)(uintptr_t)json, n), n);
  return 0;
}

static int32_t fail(const char *message, uint32_t n) {
  error_set(block_write((uint64_t)(uintptr_t)message, n));
  return 1;
}

static char *call(uint64_t (*fn)(uint64_t), const char *request, uint32_t n) {
  uint64_t reply = fn(block_write((uint64_t)(uintptr_t)request, n));
  uint32_t m = (uint32_t)block_length(reply);
  char *buf = take(m + 1);
  block_read(reply, (uint64_t)(uintptr_t)buf);
  block_free(reply);
  buf[m] = 0;
  return buf;
}

// ui_say of `prefix` followed by `n` bytes of `s`, each byte outside printable ASCII as \u00XX.
static void say(const char *prefix, const char *s, uint32_t n) {
  char *req = take(n * 6 + len(prefix) + 32);
  uint32_t at = 0;
  put(req, &at, "{\"message\":\"", 12);
  put(req, &at, prefix, len(prefix));
  for (uint32_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      const char *hex = "0123456789abcdef";
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      put(req, &at, esc, 6);
    } else {
      req[at++] = (char)c;
    }
  }
  put(req, &at, "\"}", 2);
  call(ui_say, req, at);
}

// {"path":"<path>"} for artifact_open / artifact_create.
static char *path_request(const char *path, uint32_t n, uint32_t *out) {
  char *req = take(n + 32);
  uint32_t at = 0;
  put(req, &at, "{\"path\":\"", 9);
  put(req, &at, path, n);
  put(req, &at, "\"}", 2);
  *out = at;
  return req;
}

static char page[256];

// Opens `path`, reads what it can and says it; returns the handle or -1.
static int64_t open_and_say(const char *path, uint32_t n) {
  uint32_t rn;
  char *req = path_request(path, n, &rn);
  char *reply = call(artifact_open, req, rn);
  int64_t h = number_field(reply, "handle");
  if (h < 0) {
    say("open refused: ", reply, len(reply));
    return -1;
  }
  int64_t got = artifact_pread((uint64_t)h, 0, (uint64_t)(uintptr_t)page, sizeof page);
  if (got > 0) say("read: ", page, (uint32_t)got);
  artifact_close((uint64_t)h);
  return h;
}

// Unbounded recursion (the shadow stack in linear memory and the engine's call stack).
static int32_t deeper(volatile int32_t n) {
  volatile char frame[64];
  frame[0] = (char)n;
  return deeper(n + 1) + frame[0];
}

EXPORT("describe") int32_t describe(void) {
  used = 0;
  const char *d =
      "{\"kind\":\"post-processor\",\"name\":\"acme/attacker\",\"abi\":\"imgb-plugin/1\",\"version\":\"0.1.0\","
      "\"schema\":{\"fields\":[{\"name\":\"action\",\"type\":\"string\",\"required\":true},"
      "{\"name\":\"path\",\"type\":\"string\"},{\"name\":\"count\",\"type\":\"number\"},"
      "{\"name\":\"late_text\",\"type\":\"string\",\"late\":true},{\"name\":\"output\",\"type\":\"string\"}],\"allow_unknown\":false},"
      "\"capabilities\":[\"artifact_read\",\"artifact_write\"]}";
  return answer(d, len(d));
}

// Passes the first config through.
EXPORT("configure") int32_t configure(void) {
  used = 0;
  char *in = input();
  uint32_t n = len(in);
  // {"configs":[{...}, ...]} -> {"config":{...},"warnings":[]}
  const char *start = in;
  while (*start && *start != '[') start++;
  if (!*start) return fail("no configs", 10);
  start++;
  uint32_t depth = 0, k = 0;
  for (; start[k]; k++) {
    if (start[k] == '{') depth++;
    if (start[k] == '}' && --depth == 0) break;
  }
  char *out = take(n + 128);
  uint32_t at = 0;
  put(out, &at, "{\"config\":", 10);
  put(out, &at, start, k + 1);
  uint32_t an = 0;
  const char *action = string_field(in, "action", &an);
  // A warning that tries to pass for imgb's own lines on the terminal.
  const char *forged = ",\"warnings\":[\"careful\\u001b]0;title\\u0007\\n==> Builds finished. The artifacts of successful builds are:\"]}";
  if (action && eq(action, an, "warn_forge")) put(out, &at, forged, len(forged));
  else put(out, &at, ",\"warnings\":[]}", 15);
  return answer(out, at);
}

static const char *OUT = "{\"artifact\":{\"builder_id\":\"acme.attacker\",\"id\":\"x\",\"files\":[],\"string\":\"x\",\"state\":{}},\"keep\":true,\"force_override\":false}";

EXPORT("post_process") int32_t post_process(void) {
  used = 0;
  char *in = input();
  uint32_t an = 0, pn = 0;
  const char *action = string_field(in, "action", &an);
  const char *path = string_field(in, "path", &pn);
  int64_t count = number_field(in, "count");
  if (!action) return fail("no action", 9);

  // The machine's credentials, through the build's generated values.
  if (eq(action, an, "render_key")) {
    const char *req = "{\"template\":\"pw={{build `Password`}} key={{build `SSHPrivateKey`}}\"}";
    char *reply = call(template_render, req, len(req));
    say("render: ", reply, len(reply));
    return answer(OUT, len(OUT));
  }

  if (eq(action, an, "recurse")) return deeper(0);
  // An artifact whose description (printed in the closing summary) has `count` lines.
  if (eq(action, an, "artifact_lines")) {
    const char *head = "{\"artifact\":{\"builder_id\":\"acme.attacker\",\"id\":\"x\",\"files\":[],\"string\":\"";
    const char *tail = "\",\"state\":{}},\"keep\":true,\"force_override\":false}";
    char *o = take(len(head) + len(tail) + 3 * (uint32_t)count + 8);
    uint32_t at = 0;
    puts_(o, &at, head);
    for (int64_t i = 0; i < count; i++) puts_(o, &at, "y\\n");
    puts_(o, &at, tail);
    return answer(o, at);
  }

  // The message of a trap (plugin_error), `count` lines long, then the trap.
  if (eq(action, an, "plugin_error_huge")) {
    char *req = take(3 * (uint32_t)count + 32);
    uint32_t at = 0;
    puts_(req, &at, "{\"message\":\"");
    for (int64_t i = 0; i < count; i++) puts_(req, &at, "z\\n");
    puts_(req, &at, "\"}");
    call(plugin_error, req, at);
    __builtin_trap();
  }

  // One ui_say of `count` lines (the rate limit counted calls).
  if (eq(action, an, "ui_lines")) {
    char *req = take(2 * (uint32_t)count + 32);
    uint32_t at = 0;
    puts_(req, &at, "{\"message\":\"");
    for (int64_t i = 0; i < count; i++) puts_(req, &at, "x\\n");
    puts_(req, &at, "\"}");
    char *reply = call(ui_say, req, at);
    say("ui_say: ", reply, len(reply));
    return answer(OUT, len(OUT));
  }
  // An error message of `count` bytes (lines of text): the user's terminal shows errors in full.
  if (eq(action, an, "error_huge")) {
    static char big[8 << 20];
    uint32_t n = (uint32_t)count > sizeof big ? sizeof big : (uint32_t)count;
    for (uint32_t i = 0; i < n; i++) big[i] = (i % 80 == 79) ? '\n' : 'A';
    return fail(big, n);
  }

  // What the call's input says (the build's generated values among it).
  if (eq(action, an, "say_input")) {
    say("input: ", in, len(in));
    return answer(OUT, len(OUT));
  }

  // Every user variable of the template, asked for by name whatever the config names.
  if (eq(action, an, "render")) {
    const char *req = "{\"template\":\"secret={{user `secret`}} used={{user `used`}}\"}";
    char *reply = call(template_render, req, len(req));
    // Reversed: the output's masking of sensitive values does not recognise it; the plugin has it anyway.
    uint32_t n = len(reply);
    char *rev = take(n);
    for (uint32_t i = 0; i < n; i++) rev[i] = reply[n - 1 - i];
    say("render (reversed): ", rev, n);
    return answer(OUT, len(OUT));
  }

  // A render that loops a billion times and prints nothing: the host renders on its one thread.
  if (eq(action, an, "render_bomb")) {
    const char *head = "{\"template\":\"{{range .a}}{{range $.a}}{{range $.a}}{{end}}{{end}}{{end}}\",\"data\":{\"a\":[0";
    char *req = take(len(head) + 2 * 1000 + 8);
    uint32_t at = 0;
    put(req, &at, head, len(head));
    for (int i = 1; i < 1000; i++) put(req, &at, ",0", 2);
    put(req, &at, "]}}", 3);
    char *reply = call(template_render, req, at);
    say("render: ", reply, len(reply));
    return answer(OUT, len(OUT));
  }

  // A request nested `count` levels deep (the host parses and validates every request).
  if (eq(action, an, "deep_request")) {
    const char *head = "{\"template\":\"{{.d}} {{printf \\\"%v\\\" .d}} {{len .d}} {{index .d 0}}\",\"data\":{\"d\":";
    char *req = take(len(head) + 2 * (uint32_t)count + 8);
    uint32_t at = 0;
    put(req, &at, head, len(head));
    for (int64_t i = 0; i < count; i++) req[at++] = '[';
    for (int64_t i = 0; i < count; i++) req[at++] = ']';
    put(req, &at, "}}", 2);
    char *reply = call(template_render, req, at);
    say("deep: ", reply, len(reply) > 200 ? 200 : len(reply));
    return answer(OUT, len(OUT));
  }

  // An answer nested `count` levels deep in the artifact's state.
  if (eq(action, an, "deep_output")) {
    const char *head = "{\"artifact\":{\"builder_id\":\"acme.attacker\",\"id\":\"x\",\"files\":[],\"string\":\"x\",\"state\":{\"d\":";
    const char *tail = "}},\"keep\":true,\"force_override\":false}";
    char *o = take(len(head) + len(tail) + 2 * (uint32_t)count + 8);
    uint32_t at = 0;
    put(o, &at, head, len(head));
    for (int64_t i = 0; i < count; i++) o[at++] = '[';
    for (int64_t i = 0; i < count; i++) o[at++] = ']';
    put(o, &at, tail, len(tail));
    return answer(o, at);
  }

  // The host's own readers: hash a file, archive a file `count` times (a race when a link flips).
  if (eq(action, an, "hash")) {
    char *req = take(pn + 64);
    uint32_t at = 0;
    puts_(req, &at, "{\"paths\":[\"");
    put(req, &at, path, pn);
    puts_(req, &at, "\"],\"types\":[\"sha256\"]}");
    char *reply = call(hash_files, req, at);
    say("hash: ", reply, len(reply));
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "stat_glob")) {
    char *req = take(pn + 64);
    uint32_t at = 0;
    puts_(req, &at, "{\"paths\":[\"");
    put(req, &at, path, pn);
    puts_(req, &at, "\"],\"glob\":true}");
    char *reply = call(files_stat, req, at);
    say("files_stat: ", reply, len(reply));
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "read_output")) {
    uint32_t rn;
    char *req = path_request(path, pn, &rn);
    char *reply = call(output_file_read, req, rn);
    say("output_file_read: ", reply, len(reply) > 120 ? 120 : len(reply));
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "compress_loop")) {
    uint32_t on = 0;
    const char *output = string_field(in, "output", &on);
    for (int64_t i = 0; i < count; i++) {
      char *req = take(pn + on + 128);
      uint32_t at = 0;
      puts_(req, &at, "{\"inputs\":[\"");
      put(req, &at, path, pn);
      puts_(req, &at, "\"],\"output\":\"");
      put(req, &at, output, on);
      puts_(req, &at, "\",\"archive\":\"tar\",\"compression\":\"none\"}");
      call(compress_files, req, at);
      // What the archive holds (a tar: the file's bytes follow a 512-byte header).
      uint32_t rn;
      char *oreq = path_request(output, on, &rn);
      char *reply = call(artifact_open, oreq, rn);
      int64_t h = number_field(reply, "handle");
      if (h >= 0) {
        int64_t got = artifact_pread((uint64_t)h, 512, (uint64_t)(uintptr_t)page, 64);
        if (got > 0 && page[0] != 'i') say("archived: ", page, (uint32_t)got);
        artifact_close((uint64_t)h);
      }
      used = 0;
      in = input();
      path = string_field(in, "path", &pn);
      output = string_field(in, "output", &on);
    }
    return answer(OUT, len(OUT));
  }

  // Tables are memory too: grow the function table until the host says no.
  if (eq(action, an, "table_grow")) {
    int32_t size = 0;
    for (int i = 0; i < 4000; i++) {
      int32_t r;
      __asm__ volatile("ref.null_func\ni32.const 4096\ntable.grow __indirect_function_table\nlocal.set %0\n" : "=r"(r));
      if (r < 0) break;
      size = r + 4096;
    }
    char *msg = take(64);
    uint32_t at = 0;
    put(msg, &at, "table grew to ", 14);
    put_num(msg, &at, size);
    return fail(msg, at);
  }

  // Byte handles: read what the handle names, write through it.
  if (eq(action, an, "open")) {
    open_and_say(path, pn);
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "create")) {
    uint32_t rn;
    char *req = path_request(path, pn, &rn);
    char *reply = call(artifact_create, req, rn);
    int64_t h = number_field(reply, "handle");
    if (h < 0) {
      say("create refused: ", reply, len(reply));
      return answer(OUT, len(OUT));
    }
    const char *pwned = "PWNED";
    say("wrote ", 0, 0);
    artifact_pwrite((uint64_t)h, 0, (uint64_t)(uintptr_t)pwned, 5);
    artifact_close((uint64_t)h);
    return answer(OUT, len(OUT));
  }
  // Handles opened and never closed.
  if (eq(action, an, "open_many")) {
    for (int64_t i = 0; i < count; i++) {
      uint32_t rn;
      char *req = path_request(path, pn, &rn);
      call(artifact_open, req, rn);
      used = 0;
      in = input();
      path = string_field(in, "path", &pn);
    }
    say("opened all", 0, 0);
    return answer(OUT, len(OUT));
  }
  // A race: open the same path `count` times while something swaps a link under it.
  if (eq(action, an, "open_loop")) {
    for (int64_t i = 0; i < count; i++) {
      uint32_t rn;
      char *req = path_request(path, pn, &rn);
      char *reply = call(artifact_open, req, rn);
      int64_t h = number_field(reply, "handle");
      if (h >= 0) {
        int64_t got = artifact_pread((uint64_t)h, 0, (uint64_t)(uintptr_t)page, sizeof page);
        if (got > 0 && page[0] != 'i') say("read: ", page, (uint32_t)got);
        artifact_close((uint64_t)h);
      }
      used = 0;
      in = input();
    }
    return answer(OUT, len(OUT));
  }

  // The Extism kernel with addresses that are not blocks.
  if (eq(action, an, "free_bogus")) {
    uint64_t b = block_write((uint64_t)(uintptr_t)"abc", 3);
    block_free(b);
    block_free(b);                          // double free
    block_free(0x1234);                     // not a block
    block_free(0xffff000000000000ull);      // the last index
    block_free(input_offset());             // Extism's own input block
    block_free(input_offset());
    uint64_t c = block_write((uint64_t)(uintptr_t)"xyz", 3);
    uint64_t d = block_write((uint64_t)(uintptr_t)"uvw", 3);
    if (c == d) return fail("two live blocks share an address", 32);
    say("still works", 0, 0);
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "load_past_block")) {
    uint64_t b = block_write((uint64_t)(uintptr_t)"abc", 3);
    load_u8(b + 3);
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "store_past_block")) {
    uint64_t b = block_write((uint64_t)(uintptr_t)"abcdefgh", 8);
    store_u64(b + 1, 0x4141414141414141ull);
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "block_read_past_memory")) {
    uint64_t b = block_write((uint64_t)(uintptr_t)"abcdefgh", 8);
    block_read(b, 0xfffffffffffffffcull);   // -4: wraps in a 64-bit sum
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "block_write_wrap")) {
    block_write(16, 0xfffffffffffffff8ull); // 16 + (2^64 - 8) wraps to 8
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "output_set_long")) {
    uint64_t b = block_write((uint64_t)(uintptr_t)"{}", 2);
    output_set(b, 1 << 20);
    return 0;
  }
  if (eq(action, an, "alloc_huge")) {
    block_alloc(0x7fffffffffffffffull);
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "alloc_negative")) {
    block_alloc(0xffffffffffffffffull);
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "alloc_many")) {
    // 1 MiB blocks, never freed: the host's side of the plugin's memory.
    for (int i = 0; i < 1000; i++) block_alloc(1 << 20);
    return answer(OUT, len(OUT));
  }
  if (eq(action, an, "error_escape")) {
    // Invalid UTF-8, an OSC title, a screen clear and a forged line.
    const char *msg = "bad \xff\xfe utf8 \x1b]0;owned\x07\x1b[2J\r\n==> Builds finished.";
    return fail(msg, len(msg));
  }
  return fail("unknown action", 14);
}
