"""Seeds for HeaderFuzzer: the attacks found by hand (a layer name that
closes the weight-name array, a function name and a file name that close a
comment, trigraphs, quotes, backslashes, non-ASCII) and plain names."""
import sys

seeds = [
    b"model.lcm\npredict\ninput_1\ndense/kernel\ndense/bias",
    b'm.lcm\nf\nx", 0}; __attribute__((constructor)) static void p(void)'
    b'{puts("PWNED");} static const char *q[] = {"\nk',
    b"a*/ int x; /*.lcm\nf*/ int pwned = 1; /*\n??/\n\\\n\"",
    b"\xc3\xa9t\xc3\xa9.lcm\n\xe6\x97\xa5\xe6\x9c\xac\nint\nsize_t\n_Bool",
    b"x\nfz_create\nfz_predict\nlayerc_x\nbatch\nctx",
    b"x\na_b\na\nb_c\nINT64_MAX\nNULL",
    b"\x01\x7f\xff\n\t\r\n??=??(??)\n%:%:\n",
    # Found by the fuzzer: a parameter named like a macro of <stdint.h>.
    b"x\n5a_b\na\nb_c\nINT32_MAX\nEXIT_SUCCESS",
]
for i, s in enumerate(seeds):
    with open(f"{sys.argv[1]}/seed{i}", "wb") as f:
        f.write(s)
