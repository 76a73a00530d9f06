"""Turns every ```cpp block of a Markdown guide into one C++ file.

Each block becomes the body of its own function, so blocks may reuse names.
A block may use, without defining them, the names that PRELUDE declares
(the guide's text says where they come from: a model built earlier, the
data of a previous block). A block's own `#include "layerc/layerc.h"` and
`using namespace layerc;` lines are blanked: the prelude has them.

    guide_snippets.py docs/UserGuide.md out.cpp   # prints the block count
"""
import re
import sys

PRELUDE = """\
#include "layerc/layerc.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace layerc;

// Given by the surrounding text of the guide.
extern Model model, encoder, decoder, m1, m2, m3, ticket;
extern Tensor x, y, xTrain, yTrain, xTest, yTest, titles, bodies, tags, t, b, g, p, d;
"""


def blocks(text):
    """(line number, code) of every ```cpp block."""
    found = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```cpp":
            start = i + 1
            j = start
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            if j == len(lines):
                sys.exit("line %d: unterminated ```cpp block" % (start))
            found.append((start + 1, "\n".join(lines[start:j])))
            i = j
        i += 1
    return found


def main():
    guide, out = sys.argv[1], sys.argv[2]
    found = blocks(open(guide).read())
    parts = [PRELUDE]
    for n, (line, code) in enumerate(found):
        # Blanked, not removed: #line keeps the guide's line numbers.
        kept = ["" if re.match(r'\s*#include "layerc/layerc.h"', l)
                or re.match(r"\s*using namespace layerc;", l) else l
                for l in code.split("\n")]
        parts.append('// %s:%d\n[[maybe_unused]] static void snippet%d() {\n'
                     '#line %d "%s"\n%s\n}\n'
                     % (guide, line, n, line, guide, "\n".join(kept)))
    open(out, "w").write("\n".join(parts))
    print("%d C++ snippets" % len(found))


if __name__ == "__main__":
    main()
