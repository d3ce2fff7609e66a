/* Bare C baseline for the source workload: Redis stream -> Kafka topic, no framework.
 *
 *   source_loop REDIS_HOST REDIS_PORT STREAM BOOTSTRAP TOPIC COUNT BATCH
 *
 * The practical limit of this machine for what ferry's stream source does: XREAD COUNT BATCH
 * (the next XREAD is pipelined, sent before the current batch is produced), the same
 * {"id","stream","body"} JSON value keyed by entry id, librdkafka with ferry's producer
 * settings (acks=all, enable.idempotence=true, linger.ms=5).
 *
 * Protocol with bench/run.py: prints "READY" once started, waits for one line on stdin, then
 * connects and moves COUNT entries; exits after every record is acknowledged, printing one JSON
 * line {"records","errors","seconds","cpu_seconds","vmhwm_kb"} (cpu_seconds: all threads, from
 * GO until every record was acknowledged). Exit status 0 only when COUNT records were delivered
 * without error.
 *
 * Built by bench/run.py: cc -O2 source_loop.c -lrdkafka -lhiredis
 */
#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static long delivered = 0;
static long failed = 0;

static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) {
    if (failed++ == 0) fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
  } else {
    delivered++;
  }
}

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

/* Growable output buffer with JSON string escaping. */
typedef struct {
  char* p;
  size_t len, cap;
} buf_t;

static void buf_reserve(buf_t* b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra) cap *= 2;
  b->p = realloc(b->p, cap);
  if (!b->p) abort();
  b->cap = cap;
}

static void buf_raw(buf_t* b, const char* s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static void buf_json_string(buf_t* b, const char* s, size_t n) {
  buf_reserve(b, n * 6 + 2);
  char* o = b->p + b->len;
  *o++ = '"';
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      *o++ = '\\';
      *o++ = (char)c;
    } else if (c < 0x20) {
      o += sprintf(o, "\\u%04x", c);
    } else {
      *o++ = (char)c;
    }
  }
  *o++ = '"';
  b->len = (size_t)(o - b->p);
}

static int send_xread(redisContext* c, const char* stream, const char* last_id, long batch) {
  char count[32];
  snprintf(count, sizeof count, "%ld", batch);
  const char* argv[] = {"XREAD", "COUNT", count, "BLOCK", "100", "STREAMS", stream, last_id};
  if (redisAppendCommandArgv(c, 8, argv, NULL) != REDIS_OK) return -1;
  int done = 0;
  while (!done) {
    if (redisBufferWrite(c, &done) != REDIS_OK) return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s REDIS_HOST REDIS_PORT STREAM BOOTSTRAP TOPIC COUNT BATCH\n",
            argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = atoi(argv[2]);
  const char* stream = argv[3];
  const char* bootstrap = argv[4];
  const char* topic = argv[5];
  long count = atol(argv[6]);
  long batch = atol(argv[7]);
  size_t stream_len = strlen(stream);

  printf("READY\n");
  fflush(stdout);
  char go[64];
  if (!fgets(go, sizeof go, stdin)) return 2;
  double t0 = now_s();
  double cpu0 = cpu_s();

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const char* settings[][2] = {{"bootstrap.servers", bootstrap},
                               {"acks", "all"},
                               {"enable.idempotence", "true"},
                               {"message.timeout.ms", "0"},
                               {"linger.ms", "5"}};
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
    if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      fprintf(stderr, "%s\n", errstr);
      return 1;
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic, NULL);

  redisContext* c = redisConnect(host, port);
  if (!c || c->err) {
    fprintf(stderr, "redis connect: %s\n", c ? c->errstr : "out of memory");
    return 1;
  }

  char last_id[64] = "0-0";
  long read = 0;
  buf_t value = {0};
  if (send_xread(c, stream, last_id, batch) != 0) {
    fprintf(stderr, "redis write: %s\n", c->errstr);
    return 1;
  }
  while (read < count) {
    redisReply* reply = NULL;
    if (redisGetReply(c, (void**)&reply) != REDIS_OK) {
      fprintf(stderr, "redis read: %s\n", c->errstr);
      return 1;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      fprintf(stderr, "XREAD: %s\n", reply->str);
      return 1;
    }
    redisReply* entries = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0) {
      entries = reply->element[0]->element[1];
    }
    size_t n = entries ? entries->elements : 0;
    if (n > 0) {
      redisReply* last = entries->element[n - 1]->element[0];
      snprintf(last_id, sizeof last_id, "%.*s", (int)last->len, last->str);
    }
    /* Pipelining: ask for the next batch before producing this one. */
    if (read + (long)n < count && send_xread(c, stream, last_id, batch) != 0) {
      fprintf(stderr, "redis write: %s\n", c->errstr);
      return 1;
    }
    for (size_t e = 0; e < n && read < count; e++) {
      redisReply* entry = entries->element[e];
      redisReply* id = entry->element[0];
      redisReply* fields = entry->element[1];
      value.len = 0;
      buf_raw(&value, "{\"id\":", 6);
      buf_json_string(&value, id->str, id->len);
      buf_raw(&value, ",\"stream\":", 10);
      buf_json_string(&value, stream, stream_len);
      buf_raw(&value, ",\"body\":{", 9);
      for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (f) buf_raw(&value, ",", 1);
        buf_json_string(&value, fields->element[f]->str, fields->element[f]->len);
        buf_raw(&value, ":", 1);
        buf_json_string(&value, fields->element[f + 1]->str, fields->element[f + 1]->len);
      }
      buf_raw(&value, "}}", 2);
      for (;;) {
        int rc = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value.p,
                                  value.len, id->str, id->len, NULL);
        if (rc == 0) break;
        if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(rk, 50);
          continue;
        }
        fprintf(stderr, "produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
        return 1;
      }
      read++;
    }
    freeReplyObject(reply);
    rd_kafka_poll(rk, 0);
  }
  while (delivered + failed < read) {
    rd_kafka_flush(rk, 1000);
    rd_kafka_poll(rk, 0);
  }
  double secs = now_s() - t0;
  double cpu = cpu_s() - cpu0;
  redisFree(c);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  free(value.p);
  printf(
      "{\"records\":%ld,\"errors\":%ld,\"seconds\":%.6f,\"cpu_seconds\":%.6f,"
      "\"vmhwm_kb\":%ld}\n",
      delivered, failed, secs, cpu, read_vmhwm_kb());
  fflush(stdout);
  return (failed == 0 && delivered == count) ? 0 : 1;
}
