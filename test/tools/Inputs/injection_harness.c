/* Includes a header generated from a model whose names try to inject code
 * and checks that every weight name comes back byte for byte: the escaping
 * keeps the data and runs nothing. Prints "names ok" and nothing else
 * (an injected constructor would print first). */
#include <stdio.h>
#include <string.h>

#include "evil.h"

int main(int argc, char **argv) {
  int i;
  if (argc != 2)
    return 2;
  /* argv[1]: the expected name of weight 0. */
  if (strcmp(evil_weight_name(0), argv[1]) != 0) {
    printf("weight 0 is '%s', expected '%s'\n", evil_weight_name(0), argv[1]);
    return 1;
  }
  if (evil_find_weight(argv[1]) != 0) {
    printf("find_weight failed\n");
    return 1;
  }
  for (i = 0; i < EVIL_NUM_WEIGHTS; ++i)
    if (!evil_weight_name(i))
      return 1;
  printf("names ok\n");
  return 0;
}
