/* Runs the guide's ticket model (`layerc ticket.lcm --embed-weights
 * --name=ticket`): three inputs, two of them token sequences whose length
 * the library derives from their element counts, and two outputs.
 *   ticket_harness DIR  reads DIR/ticket_{title,body,tags}.bin (2 samples:
 *   titles of 7 words, bodies of 11), writes DIR/aot_{priority,department}.bin
 */
#include "ticket.h"

#include <stdio.h>
#include <stdlib.h>

static void *readFile(const char *dir, const char *name, size_t bytes) {
  char path[4096];
  void *data = malloc(bytes);
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f || fread(data, 1, bytes, f) != bytes) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  return data;
}

static int writeFile(const char *dir, const char *name, const float *data,
                     size_t count) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "wb");
  if (!f || fwrite(data, sizeof(float), count, f) != count)
    return 1;
  return fclose(f);
}

int main(int argc, char **argv) {
  int32_t *title, *body;
  float *tags, priority[2], department[8];
  ticket_context *ctx;
  int rc;
  if (argc != 2)
    return 2;
  title = readFile(argv[1], "ticket_title.bin", 2 * 7 * sizeof(int32_t));
  body = readFile(argv[1], "ticket_body.bin", 2 * 11 * sizeof(int32_t));
  tags = readFile(argv[1], "ticket_tags.bin", 2 * 12 * sizeof(float));
  if (ticket_create(&ctx) != TICKET_OK)
    return 3;
  /* A count that is no whole number of samples is refused. */
  rc = ticket_predict(ctx, 2, title, 13, body, 22, tags, 24, priority, 2,
                      department, 8);
  printf("ragged title: %s\n", ticket_error_message(rc));
  rc = ticket_predict(ctx, 2, title, 14, body, 22, tags, 24, priority, 2,
                      department, 8);
  printf("predict: %s\n", ticket_error_message(rc));
  ticket_destroy(ctx);
  if (writeFile(argv[1], "aot_priority.bin", priority, 2) ||
      writeFile(argv[1], "aot_department.bin", department, 8))
    return 1;
  free(title), free(body), free(tags);
  return rc;
}
