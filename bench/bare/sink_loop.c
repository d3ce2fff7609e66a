/* Bare C baseline for the sink workloads: Kafka topic -> Redis hashes or strings, no framework.
 *
 *   sink_loop BOOTSTRAP TOPIC GROUP REDIS_HOST REDIS_PORT KEYSPACE COUNT BATCH MODE [KEY=VALUE ...]
 *
 * MODE "hash": HSET from flat JSON object values (below); MODE "string": SET KEYSPACE:<key>
 * <value> with the value's bytes as they are.
 *
 * KEY=VALUE arguments are extra librdkafka consumer settings (bench/run.py passes the same ones
 * to every implementation).
 * The practical limit of this machine for what ferry's HASH sink does: a subscribed librdkafka
 * consumer (group GROUP, manual commits, as ferry) read in batches of up to BATCH messages
 * (rd_kafka_consume_batch_queue), each record's flat JSON object value turned into one
 * HSET KEYSPACE:<key> field value ... (null fields skipped, non-string values written as their
 * JSON text, as ferry does), one hiredis pipeline per batch, then an asynchronous commit of the
 * batch's offsets.
 *
 * Protocol with bench/run.py: prints "READY" once started, waits for one line on stdin, then
 * connects and moves COUNT records; exits after a final synchronous commit, printing one JSON
 * line {"records","errors","seconds","cpu_seconds","vmhwm_kb"}.
 *
 * Built by bench/run.py: cc -O2 sink_loop.c -lrdkafka -lhiredis
 */
#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long read_vmhwm_kb(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  }
  fclose(f);
  return kb;
}

/* ---- a minimal parser for flat JSON objects ------------------------------------------------
 * Strings are unescaped into `arena` (\uXXXX of the BMP becomes UTF-8; surrogate pairs are
 * combined); numbers, true/false and nested values are kept as their raw text; null fields are
 * skipped. Returns the number of argv slots filled, or -1 on malformed input. */

typedef struct {
  char* p;
  size_t len, cap;
} arena_t;

static char* arena_alloc(arena_t* a, size_t n) {
  if (a->len + n > a->cap) return NULL; /* sized by the caller: never grows (pointers stay valid) */
  char* r = a->p + a->len;
  a->len += n;
  return r;
}

static const char* skip_ws(const char* s, const char* end) {
  while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
  return s;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static const char* parse_hex4(const char* s, const char* end, unsigned* out) {
  if (end - s < 4) return NULL;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(s[i]);
    if (h < 0) return NULL;
    v = v * 16 + (unsigned)h;
  }
  *out = v;
  return s + 4;
}

/* s points at the opening quote. */
static const char* parse_string(const char* s, const char* end, arena_t* a, const char** out,
                                size_t* out_len) {
  s++;
  char* o = a->p + a->len;
  char* start = o;
  while (s < end && *s != '"') {
    if (*s != '\\') {
      *o++ = *s++;
      continue;
    }
    if (++s >= end) return NULL;
    char c = *s++;
    switch (c) {
      case '"':
        *o++ = '"';
        break;
      case '\\':
        *o++ = '\\';
        break;
      case '/':
        *o++ = '/';
        break;
      case 'b':
        *o++ = '\b';
        break;
      case 'f':
        *o++ = '\f';
        break;
      case 'n':
        *o++ = '\n';
        break;
      case 'r':
        *o++ = '\r';
        break;
      case 't':
        *o++ = '\t';
        break;
      case 'u': {
        unsigned cp;
        if (!(s = parse_hex4(s, end, &cp))) return NULL;
        if (cp >= 0xD800 && cp <= 0xDBFF && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
          unsigned lo;
          const char* t = parse_hex4(s + 2, end, &lo);
          if (t && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            s = t;
          }
        }
        if (cp < 0x80) {
          *o++ = (char)cp;
        } else if (cp < 0x800) {
          *o++ = (char)(0xC0 | (cp >> 6));
          *o++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          *o++ = (char)(0xE0 | (cp >> 12));
          *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *o++ = (char)(0x80 | (cp & 0x3F));
        } else {
          *o++ = (char)(0xF0 | (cp >> 18));
          *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
          *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *o++ = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        return NULL;
    }
  }
  if (s >= end) return NULL;
  *out = start;
  *out_len = (size_t)(o - start);
  a->len += (size_t)(o - start);
  return s + 1;
}

/* A raw (non-string) value: number, literal, or nested object/array (bracket-matched). */
static const char* skip_raw(const char* s, const char* end) {
  int depth = 0;
  while (s < end) {
    char c = *s;
    if (c == '"') {
      for (s++; s < end && *s != '"'; s++)
        if (*s == '\\') s++;
      if (s >= end) return NULL;
      s++;
      continue;
    }
    if (c == '{' || c == '[') depth++;
    if (c == '}' || c == ']') {
      if (depth == 0) return s;
      depth--;
    }
    if (c == ',' && depth == 0) return s;
    s++;
  }
  return depth == 0 ? s : NULL;
}

#define MAX_ARGS 256

static int parse_object(const char* s, size_t n, arena_t* a, const char** argv, size_t* lens) {
  const char* end = s + n;
  int argc = 0;
  s = skip_ws(s, end);
  if (s >= end || *s != '{') return -1;
  s = skip_ws(s + 1, end);
  if (s < end && *s == '}') return 0;
  for (;;) {
    if (s >= end || *s != '"' || argc + 2 > MAX_ARGS) return -1;
    const char* k;
    size_t klen;
    if (!(s = parse_string(s, end, a, &k, &klen))) return -1;
    s = skip_ws(s, end);
    if (s >= end || *s != ':') return -1;
    s = skip_ws(s + 1, end);
    if (s >= end) return -1;
    if (*s == '"') {
      const char* v;
      size_t vlen;
      if (!(s = parse_string(s, end, a, &v, &vlen))) return -1;
      argv[argc] = k, lens[argc++] = klen;
      argv[argc] = v, lens[argc++] = vlen;
    } else {
      const char* v = s;
      if (!(s = skip_raw(s, end))) return -1;
      size_t vlen = (size_t)(s - v);
      while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\n' || v[vlen - 1] == '\t' ||
                          v[vlen - 1] == '\r'))
        vlen--;
      if (!(vlen == 4 && memcmp(v, "null", 4) == 0)) {
        argv[argc] = k, lens[argc++] = klen;
        argv[argc] = v, lens[argc++] = vlen;
      }
    }
    s = skip_ws(s, end);
    if (s < end && *s == ',') {
      s = skip_ws(s + 1, end);
      continue;
    }
    if (s < end && *s == '}') return argc;
    return -1;
  }
}

/* ---- the loop ---------------------------------------------------------------------------- */

typedef struct {
  int32_t partition;
  int64_t next_offset;
} pos_t;

static void commit(rd_kafka_t* rk, const char* topic, pos_t* pos, int npos, int async) {
  if (npos == 0) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(npos);
  for (int i = 0; i < npos; i++)
    rd_kafka_topic_partition_list_add(list, topic, pos[i].partition)->offset = pos[i].next_offset;
  rd_kafka_resp_err_t err = rd_kafka_commit(rk, list, async);
  if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
    fprintf(stderr, "commit: %s\n", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_destroy(list);
}

int main(int argc, char** argv) {
  if (argc < 10) {
    fprintf(stderr,
            "usage: %s BOOTSTRAP TOPIC GROUP REDIS_HOST REDIS_PORT KEYSPACE COUNT BATCH MODE "
            "[KEY=VALUE ...]\n",
            argv[0]);
    return 2;
  }
  const char* bootstrap = argv[1];
  const char* topic = argv[2];
  const char* group = argv[3];
  const char* host = argv[4];
  int port = atoi(argv[5]);
  const char* keyspace = argv[6];
  long count = atol(argv[7]);
  int batch = atoi(argv[8]);
  int string_mode = strcmp(argv[9], "string") == 0;
  if (!string_mode && strcmp(argv[9], "hash") != 0) {
    fprintf(stderr, "MODE must be hash or string, not %s\n", argv[9]);
    return 2;
  }
  size_t ks_len = strlen(keyspace);

  printf("READY\n");
  fflush(stdout);
  char go[64];
  if (!fgets(go, sizeof go, stdin)) return 2;
  double t0 = now_s();
  double cpu0 = cpu_s();

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const char* settings[][2] = {{"bootstrap.servers", bootstrap},
                               {"group.id", group},
                               {"enable.auto.commit", "false"},
                               {"enable.auto.offset.store", "false"},
                               {"auto.offset.reset", "earliest"}};
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
    if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      fprintf(stderr, "%s\n", errstr);
      return 1;
    }
  }
  for (int i = 10; i < argc; i++) {
    char* eq = strchr(argv[i], '=');
    if (!eq) {
      fprintf(stderr, "expected KEY=VALUE, got %s\n", argv[i]);
      return 2;
    }
    *eq = '\0';
    if (rd_kafka_conf_set(conf, argv[i], eq + 1, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      fprintf(stderr, "%s\n", errstr);
      return 2;
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
  if (rd_kafka_subscribe(rk, sub)) {
    fprintf(stderr, "subscribe failed\n");
    return 1;
  }
  rd_kafka_topic_partition_list_destroy(sub);
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);

  redisContext* c = redisConnect(host, port);
  if (!c || c->err) {
    fprintf(stderr, "redis connect: %s\n", c ? c->errstr : "out of memory");
    return 1;
  }

  rd_kafka_message_t** msgs = calloc((size_t)batch, sizeof *msgs);
  pos_t pos[1024];
  int npos = 0;
  long written = 0, errors = 0;
  const char* hargv[MAX_ARGS + 2];
  size_t hlens[MAX_ARGS + 2];
  arena_t arena = {0};

  while (written < count) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs, (size_t)batch);
    if (n < 0) {
      fprintf(stderr, "consume: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
      return 1;
    }
    int appended = 0;
    for (ssize_t i = 0; i < n; i++) {
      rd_kafka_message_t* m = msgs[i];
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          fprintf(stderr, "consumer: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        continue;
      }
      /* Room for the key and every unescaped string of the value. */
      size_t need = ks_len + 1 + m->key_len + m->len + 16;
      if (need > arena.cap) {
        free(arena.p);
        arena.cap = need * 2;
        arena.p = malloc(arena.cap);
      }
      arena.len = 0;
      char* key = arena_alloc(&arena, ks_len + 1 + m->key_len);
      memcpy(key, keyspace, ks_len);
      key[ks_len] = ':';
      memcpy(key + ks_len + 1, m->key, m->key_len);
      hargv[1] = key, hlens[1] = ks_len + 1 + m->key_len;
      int fields;
      if (string_mode) {
        hargv[0] = "SET", hlens[0] = 3;
        hargv[2] = m->payload ? (const char*)m->payload : "", hlens[2] = m->len;
        fields = 1;
      } else {
        hargv[0] = "HSET", hlens[0] = 4;
        fields = parse_object((const char*)m->payload, m->len, &arena, hargv + 2, hlens + 2);
      }
      if (fields < 0) {
        if (errors++ == 0)
          fprintf(stderr, "record %lld is not a JSON object\n", (long long)m->offset);
      } else if (fields > 0) {
        /* hiredis copies the arguments into its output buffer: the arena can be reused. */
        redisAppendCommandArgv(c, 2 + fields, hargv, hlens);
        appended++;
      }
      int j = 0;
      while (j < npos && pos[j].partition != m->partition) j++;
      if (j == npos && npos < 1024) pos[npos++].partition = m->partition;
      if (j < 1024) pos[j].next_offset = m->offset + 1;
      written++;
      rd_kafka_message_destroy(m);
    }
    for (int i = 0; i < appended; i++) {
      redisReply* reply;
      if (redisGetReply(c, (void**)&reply) != REDIS_OK) {
        fprintf(stderr, "redis: %s\n", c->errstr);
        return 1;
      }
      if (reply->type == REDIS_REPLY_ERROR && errors++ == 0)
        fprintf(stderr, "HSET: %s\n", reply->str);
      freeReplyObject(reply);
    }
    if (n > 0) commit(rk, topic, pos, npos, 1);
  }
  commit(rk, topic, pos, npos, 0);
  double secs = now_s() - t0;
  double cpu = cpu_s() - cpu0;
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  redisFree(c);
  free(msgs);
  free(arena.p);
  printf(
      "{\"records\":%ld,\"errors\":%ld,\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
      "\"vmhwm_kb\":%ld}\n",
      written, errors, secs, cpu, read_vmhwm_kb());
  fflush(stdout);
  return errors == 0 && written == count ? 0 : 1;
}
