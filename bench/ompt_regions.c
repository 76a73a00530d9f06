/* Per parallel region: wall time per call and each thread's time waiting
 * at the region's barriers, for any program that runs layerc's compiled
 * code (an AOT library, the JIT). An OpenMP tool (OMPT) that libomp loads:
 *
 *   /usr/lib/llvm-22/bin/clang -O2 -shared -fPIC bench/ompt_regions.c \
 *       -o /tmp/ompt_regions.so
 *   LAYERC_NUM_THREADS=2 OMP_TOOL_LIBRARIES=/tmp/ompt_regions.so \
 *       ./bench_toy_resnet 11 10 1
 *
 * prints, when the program ends, one line per region in the order they
 * first ran: where it is forked from (the caller's symbol and offset;
 * its address where the program does not export its symbols: link it
 * with -rdynamic),
 * its calls, its wall microseconds per call and each thread's waiting
 * microseconds per call. A thread that waits for much of a region is the
 * sign of work split unevenly (a batch of one's blocks of tiles on two
 * threads); a region of a few microseconds is mostly its fork and join.
 * The callbacks cost about 1-3 microseconds per region: compare regions,
 * not totals. (LLVM 22's clang: omp-tools.h is in its resource directory,
 * and gcc cannot read that one.) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <omp-tools.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

enum { kRegions = 256, kThreads = 8 };

static const void *where[kRegions];
static double wall[kRegions], waiting[kRegions][kThreads];
static long calls[kRegions];
static int used;
static __thread int region = -1, thread = -1;
static __thread double waitStart;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The slot of the region forked at `ra` (regions are forked from the
 * calling thread only, so no lock). */
static int slotOf(const void *ra) {
  for (int i = 0; i < used; ++i)
    if (where[i] == ra)
      return i;
  if (used == kRegions)
    return kRegions - 1;
  where[used] = ra;
  return used++;
}

static void parallelBegin(ompt_data_t *task, const ompt_frame_t *frame,
                          ompt_data_t *parallel, unsigned int requested,
                          int flags, const void *ra) {
  int s = slotOf(ra);
  parallel->value = (uint64_t)s;
  ++calls[s];
  wall[s] -= now();
}

static void parallelEnd(ompt_data_t *parallel, ompt_data_t *task, int flags,
                        const void *ra) {
  wall[parallel->value] += now();
}

static void implicitTask(ompt_scope_endpoint_t endpoint, ompt_data_t *parallel,
                         ompt_data_t *task, unsigned int team,
                         unsigned int index, int flags) {
  if (endpoint == ompt_scope_begin && parallel) {
    region = (int)parallel->value;
    thread = (int)index;
  }
}

static void syncWait(ompt_sync_region_t kind, ompt_scope_endpoint_t endpoint,
                     ompt_data_t *parallel, ompt_data_t *task, const void *ra) {
  if (region < 0 || thread < 0 || thread >= kThreads)
    return;
  if (endpoint == ompt_scope_begin)
    waitStart = now();
  else
    waiting[region][thread] += now() - waitStart;
}

static int initialize(ompt_function_lookup_t lookup, int device,
                      ompt_data_t *data) {
  ompt_set_callback_t set = (ompt_set_callback_t)lookup("ompt_set_callback");
  set(ompt_callback_parallel_begin, (ompt_callback_t)parallelBegin);
  set(ompt_callback_parallel_end, (ompt_callback_t)parallelEnd);
  set(ompt_callback_implicit_task, (ompt_callback_t)implicitTask);
  set(ompt_callback_sync_region_wait, (ompt_callback_t)syncWait);
  return 1;
}

static void finalize(ompt_data_t *data) {
  fprintf(stderr, "%-44s %8s %10s  waiting us/call by thread\n", "region",
          "calls", "us/call");
  for (int i = 0; i < used; ++i) {
    Dl_info info;
    char name[64];
    if (dladdr(where[i], &info) && info.dli_sname)
      snprintf(name, sizeof name, "%s+0x%lx", info.dli_sname,
               (unsigned long)((const char *)where[i] -
                               (const char *)info.dli_saddr));
    else
      snprintf(name, sizeof name, "%p", where[i]);
    fprintf(stderr, "%-44s %8ld %10.2f ", name, calls[i],
            wall[i] / (double)calls[i] * 1e6);
    for (int t = 0; t < kThreads; ++t)
      if (waiting[i][t] > 0)
        fprintf(stderr, " %7.2f", waiting[i][t] / (double)calls[i] * 1e6);
    fprintf(stderr, "\n");
  }
}

ompt_start_tool_result_t *ompt_start_tool(unsigned int version,
                                          const char *runtime) {
  static ompt_start_tool_result_t result = {&initialize, &finalize, {0}};
  return &result;
}
