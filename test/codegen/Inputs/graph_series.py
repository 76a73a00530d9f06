"""Layer-dialect models of a given width or depth, for compile-time tests
(test/codegen/wide-graphs.test) and bench/compile_time.sh.

  graph_series.py KIND N     print the model's .mlir (function @predict)

KIND is one of
  width        one input (?, 8) fanned out to N relu Activations, joined by
               one Concatenate: (?, 8 N)
  width-dense  the same with N Dense(8) layers (a kernel and a bias each)
  depth        a chain of N relu Activations
  depth-dense  a chain of N layers, Dense(8) and relu Activation alternating

The N relus of `width` are one op after CSE (they compute the same value);
what grows is the Concatenate. `width-dense` grows the number of distinct
layers too.
"""

import sys

T = "tensor<*xf32>"
X = "tensor<?x8xf32>"


def model(kind, n):
    args = ['%x: tensor<?x8xf32> {layer.name = "input"}']
    body = []

    def dense(i, src, src_type):
        args.append('%%k%d: tensor<8x8xf32> {layer.param, layer.name = '
                    '"dense_%d/kernel"}' % (i, i))
        args.append('%%b%d: tensor<8xf32> {layer.param, layer.name = '
                    '"dense_%d/bias"}' % (i, i))
        body.append('  %%d%d = layer.dense %s, %%k%d, %%b%d : (%s, '
                    'tensor<8x8xf32>, tensor<8xf32>) -> %s'
                    % (i, src, i, i, src_type, T))
        return "%%d%d" % i

    def relu(i, src, src_type):
        body.append('  %%a%d = layer.activation %s {activation = #layer.activation<relu>} : '
                    '(%s) -> %s' % (i, src, src_type, T))
        return "%%a%d" % i

    if kind in ("width", "width-dense"):
        layer = relu if kind == "width" else dense
        outs = [layer(i, "%x", X) for i in range(n)]
        body.append("  %%out = layer.concatenate %s {axis = 1 : i64} : "
                    "(%s) -> %s" % (", ".join(outs), ", ".join([T] * n), T))
        result = "%out"
    elif kind in ("depth", "depth-dense"):
        result, result_type = "%x", X
        for i in range(n):
            if kind == "depth-dense" and i % 2 == 0:
                result = dense(i, result, result_type)
            else:
                result = relu(i, result, result_type)
            result_type = T
    else:
        sys.exit("unknown kind %r (width, width-dense, depth, depth-dense)"
                 % kind)
    return "\n".join(["func.func @predict(%s) -> %s {" % (", ".join(args), T)]
                     + body + ["  return %s : %s" % (result, T), "}", ""])


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.stdout.write(model(sys.argv[1], int(sys.argv[2])))
