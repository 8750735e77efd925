/* A C host that embeds Lua 5.4 and loads the real module with require, in one lua_State per
 * thread, the states kept open until the end (closing the last one may unload the module and
 * the first answers it keeps). It checks that changed-since-first-call holds like with like,
 * whichever thread asked first, and prints TAP:
 *
 *   first_answers worker-first   a worker pinned to one CPU asks first; the main thread, on
 *                                all of the process's CPUs, then asks explain(): no change;
 *                                then it narrows its own mask to that CPU: a change
 *   first_answers main-first     the main thread asks first; a worker pins itself, then asks
 *                                explain() for the first time: pinned, no change; the main
 *                                thread again: no change
 *   first_answers --plan MODE    the number of results MODE prints
 *
 * LUA_CPATH names the module, KUMO_STD_ANSWER std's answer on the main thread, unpinned, as
 * the std reference prints it (scripts/c-host.sh sets both). */
#define _GNU_SOURCE
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int results;
static int failed;

static void check(int ok, const char *what, const char *got) {
  results++;
  if (!ok) failed = 1;
  printf("%s %d - %s\n", ok ? "ok" : "not ok", results, what);
  if (!ok) printf("# got: %s\n", got);
}

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  return L;
}

/* explain()'s value and finding codes, "2 thread-pinned,changed-since-first-call", or the
 * answer of available_parallelism() with `answer_only`; into `out`. */
static void ask(lua_State *L, int answer_only, char *out, size_t size) {
  const char *code = answer_only
    ? "return tostring(require('kumo_parallelism').available_parallelism())"
    : "local why = require('kumo_parallelism').explain() local codes = {} "
      "for _, f in ipairs(why.findings) do codes[#codes + 1] = f.code end "
      "return tostring(why.value) .. ' ' .. table.concat(codes, ',')";
  if (luaL_dostring(L, code) != LUA_OK) {
    snprintf(out, size, "error: %s", lua_tostring(L, -1));
  } else {
    snprintf(out, size, "%s", lua_tostring(L, -1));
  }
  lua_pop(L, 1);
}

static int has(const char *answer, const char *code) { return strstr(answer, code) != NULL; }

/* Whether the answer's value (its first word) is `value`. */
static int value_is(const char *answer, long value) {
  char *end;
  long seen = strtol(answer, &end, 10);
  return end != answer && (*end == ' ' || *end == '\0') && seen == value;
}

/* The first CPU of the calling thread's mask, and how many it has. */
static int first_cpu(int *count) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  *count = CPU_COUNT(&set);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set)) return cpu;
  return -1;
}

static int pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
}

struct worker {
  int cpu;
  int answer_only;
  lua_State *L;
  char seen[512];
};

static void *worker_run(void *arg) {
  struct worker *w = arg;
  if (pin_to(w->cpu) != 0) {
    snprintf(w->seen, sizeof w->seen, "error: sched_setaffinity failed");
    return NULL;
  }
  w->L = new_state();
  ask(w->L, w->answer_only, w->seen, sizeof w->seen);
  return NULL;
}

static void run_worker(struct worker *w) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, worker_run, w) != 0 || pthread_join(thread, NULL) != 0) {
    snprintf(w->seen, sizeof w->seen, "error: the worker thread did not run");
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--plan") == 0) {
    printf("3\n"); /* each mode prints three results */
    return 0;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: first_answers worker-first|main-first|--plan MODE\n");
    return 2;
  }
  int cpus = 0, cpu = first_cpu(&cpus);
  const char *std_answer = getenv("KUMO_STD_ANSWER");
  long expected = std_answer ? strtol(std_answer, NULL, 10) : 0;
  if (cpu < 0 || cpus < 2 || expected < 2) {
    printf("1..1\nnot ok 1 - needs a mask of 2 CPUs or more (has %d) and std's answer, 2 or "
           "more (KUMO_STD_ANSWER: %s)\n", cpus, std_answer ? std_answer : "unset");
    return 1;
  }
  char seen[512];
  printf("1..3\n");
  lua_State *main_state = NULL;
  struct worker w = {.cpu = cpu};
  if (strcmp(argv[1], "worker-first") == 0) {
    w.answer_only = 1;
    run_worker(&w);
    check(value_is(w.seen, 1), "a worker pinned to one CPU asks first: 1", w.seen);
    main_state = new_state();
    ask(main_state, 0, seen, sizeof seen);
    check(value_is(seen, expected) && !has(seen, "changed-since-first-call"),
          "the main thread asks next, on all its CPUs: std's answer, no changed-since-first-call",
          seen);
    pin_to(cpu);
    ask(main_state, 0, seen, sizeof seen);
    check(value_is(seen, 1) && has(seen, "changed-since-first-call"),
          "the main thread narrows its own mask: changed-since-first-call", seen);
  } else if (strcmp(argv[1], "main-first") == 0) {
    main_state = new_state();
    ask(main_state, 1, seen, sizeof seen);
    check(value_is(seen, expected), "the main thread asks first: std's answer", seen);
    run_worker(&w);
    check(value_is(w.seen, 1) && has(w.seen, "thread-pinned")
            && !has(w.seen, "changed-since-first-call"),
          "a worker pins itself, then asks: thread-pinned, no changed-since-first-call", w.seen);
    ask(main_state, 0, seen, sizeof seen);
    check(value_is(seen, expected) && !has(seen, "changed-since-first-call"),
          "the main thread asks again: no changed-since-first-call", seen);
  } else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
  }
  if (w.L) lua_close(w.L);
  if (main_state) lua_close(main_state);
  return failed;
}
