//===- HalideLowering.cpp - The layer dialect as Halide pipelines ---------===//
//
// A function becomes one pipeline (HalideOps.cpp lowers each op). Every
// op's result is computed at the root; convolutions, transposed
// convolutions and dense layers accumulate a block of output channels
// (whole vectors) by columns in registers with the reduction innermost, the
// way the LLVM path's register-blocked kernels do.
//
//===----------------------------------------------------------------------===//

#include "codegen/halide/HalideImpl.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cstdlib>
#include <map>
#include <mutex>

using namespace mlir;
using namespace layerc;
using namespace layerc::halide;

HalideFunction::HalideFunction(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
HalideFunction::~HalideFunction() = default;

H::Var HalideFunction::Impl::gpuThreads(H::Func f) {
  std::vector<H::Var> args = f.args();
  H::Var all = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    H::Var fused(all.name() + "_" + args[i].name());
    f.fuse(all, args[i], fused);
    all = fused;
  }
  H::Var block(all.name() + "_b"), thread(all.name() + "_t");
  f.gpu_tile(all, block, thread, 256, H::TailStrategy::GuardWithIf);
  return thread;
}

void HalideFunction::Impl::scheduleRoot(H::Func f,
                                        const std::vector<int64_t> &shape) {
  if (!ownSchedule)
    return;
  if (gpu)
    return place(f);
  int rank = static_cast<int>(shape.size());
  std::vector<H::Var> v = axes(rank);
  place(f);
  if (shape.back() >= vec)
    f.vectorize(v.back(), vec);
  if (perImage)
    return;
  if (rank >= 3) {
    H::Var yn("yn");
    f.fuse(v[1], v[0], yn).parallel(yn);
  } else {
    f.parallel(v[0]);
  }
}

void HalideFunction::Impl::scheduleBlocked(H::Func out, H::Func acc, int64_t c,
                                           int64_t cols, int rank) {
  if (!ownSchedule)
    return;
  if (gpu) {
    // Each thread sums its output element in a register.
    out.compute_root();
    stages.push_back(out);
    acc.compute_at(out, gpuThreads(out));
    return;
  }
  std::vector<H::Var> v = axes(rank);
  H::Var cv = v.back(), xv = v[rank - 2];
  H::Var co("co"), ci("ci"), xo("xo"), xi("xi");
  place(out);
  if (c % vec == 0) {
    // Accumulators: 24 of the 32 vector registers of AVX-512, 12 of the 16
    // of AVX2; as many channel vectors as divide the channels, up to 4.
    int64_t registers = vec >= 16 ? 24 : 12;
    int64_t vectors = c % (4 * vec) == 0 ? 4 : c % (2 * vec) == 0 ? 2 : 1;
    int64_t block = vectors * vec;
    int64_t colBlock =
        std::max<int64_t>(1, std::min<int64_t>(cols, registers / vectors));
    if (perImage && rank == 2)
      colBlock = 1; // the rows of a matrix are the images
    out.split(cv, co, ci, static_cast<int>(block))
        .split(xv, xo, xi, static_cast<int>(colBlock))
        .reorder(ci, xi, xo, co)
        .vectorize(ci, vec)
        .unroll(ci)
        .unroll(xi);
    acc.compute_at(out, xo).vectorize(cv, vec).unroll(cv).unroll(xv);
    std::vector<H::VarOrRVar> order{cv, xv};
    for (const H::RVar &r : acc.rvars(0))
      order.push_back(r);
    acc.update().reorder(order).vectorize(cv, vec).unroll(cv).unroll(xv);
  }
  if (rank >= 3) {
    // Images (and the outermost spatial axis: rows, or depth) in parallel;
    // a 1-D signal's columns are the blocked axis itself.
    H::Var yn("yn");
    H::Var outer = v[0];
    if (rank >= 4) {
      out.fuse(v[1], v[0], yn);
      outer = yn;
    }
    if (!perImage)
      out.parallel(outer);
    if (c % vec != 0) {
      // Too few channels for a vector: a row at a time, columns in vectors.
      if (cols >= vec)
        out.vectorize(xv, vec);
      acc.compute_at(out, outer);
    }
  } else if (c % vec == 0) {
    if (!perImage)
      out.parallel(xo);
  } else {
    acc.compute_at(out, v[0]);
    if (!perImage)
      out.parallel(v[0]);
  }
}

namespace {
/// The pipeline of `fn` with one schedule (HalideFunction::lower).
FailureOr<std::unique_ptr<HalideFunction::Impl>>
build(func::FuncOp fn, const std::string &schedule, int64_t batchEstimate,
      bool perImage, int cudaCapability = 0);
} // namespace

FailureOr<std::unique_ptr<HalideFunction>>
HalideFunction::lower(func::FuncOp fn, const std::string &schedule,
                      int64_t batchEstimate, int cudaCapability) {
  if (cudaCapability && schedule != "layerc")
    return fn.emitError("the Halide backend schedules for a GPU with "
                        "layerc's schedule only");
  auto impl =
      build(fn, schedule, batchEstimate, /*perImage=*/false, cudaCapability);
  if (failed(impl))
    return failure();
  if (schedule == "layerc" && fn.getNumResults() == 1 && !cudaCapability) {
    auto images = build(fn, schedule, batchEstimate, /*perImage=*/true);
    if (failed(images))
      return failure();
    (*impl)->images = std::move(*images);
  }
  return std::unique_ptr<HalideFunction>(new HalideFunction(std::move(*impl)));
}

namespace {
FailureOr<std::unique_ptr<HalideFunction::Impl>>
build(func::FuncOp fn, const std::string &schedule, int64_t batchEstimate,
      bool perImage, int cudaCapability) {
  using Impl = HalideFunction::Impl;
  static const std::map<std::string, std::string> autoschedulers = {
      {"mullapudi2016", "Mullapudi2016"},
      {"adams2019", "Adams2019"},
      {"li2018", "Li2018"}};
  auto autoscheduler = autoschedulers.find(schedule);
  if (schedule != "layerc" && autoscheduler == autoschedulers.end())
    return fn.emitError() << "no Halide schedule '" << schedule
                          << "' (layerc, mullapudi2016, adams2019, li2018)";
  auto impl = std::make_unique<Impl>();
  impl->vec = impl->target.natural_vector_size<float>();
  impl->ownSchedule = schedule == "layerc";
  impl->perImage = perImage;
  if (cudaCapability) {
    // Halide 14 knows capabilities up to 8.6; newer GPUs JIT its PTX.
    static const std::map<int, H::Target::Feature> capabilities = {
        {70, H::Target::CUDACapability70},
        {75, H::Target::CUDACapability75},
        {80, H::Target::CUDACapability80},
        {86, H::Target::CUDACapability86}};
    auto it = capabilities.upper_bound(cudaCapability);
    if (it == capabilities.begin())
      return fn.emitError() << "the Halide backend needs a GPU of compute "
                               "capability 7.0 or more, not "
                            << cudaCapability;
    impl->gpu = true;
    impl->target = H::get_host_target()
                       .with_feature(H::Target::CUDA)
                       .with_feature(std::prev(it)->second);
  }
  try {
    for (BlockArgument arg : fn.getArguments()) {
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (!type || !type.getElementType().isF32())
        return fn.emitError("the Halide backend takes float32 tensors");
      for (int64_t i = 1; i < type.getRank(); ++i)
        if (type.isDynamicDim(i))
          return fn.emitError("the Halide backend needs every size but the "
                              "batch known");
      H::ImageParam param(H::Float(32), static_cast<int>(type.getRank()),
                          "input" + std::to_string(arg.getArgNumber()));
      // Dense row-major memory of the static sizes (what the C glue and
      // the runtime pass; Halide checks it at each call): constant strides
      // and extents let the schedules' loads and vectors be planned ahead.
      int stride = 1;
      for (int d = 0; d < type.getRank(); ++d) {
        int64_t extent = type.getDimSize(type.getRank() - 1 - d);
        param.dim(d).set_stride(stride);
        if (extent == ShapedType::kDynamic)
          break; // the batch, outermost
        param.dim(d).set_bounds(0, static_cast<int>(extent));
        stride *= static_cast<int>(extent);
      }
      impl->params.push_back(param);
      impl->argShapes.emplace_back(type.getShape().begin(),
                                   type.getShape().end());
      // The model's inputs carry the batch; weights do not.
      bool weight = fn.getArgAttr(arg.getArgNumber(), "layer.param") ||
                    fn.getArgAttr(arg.getArgNumber(), "layer.buffer");
      impl->values[arg] = HTensor{
          H::Func(param),
          std::vector<int64_t>(type.getShape().begin(), type.getShape().end()),
          !weight};
    }
    for (Operation &op : fn.getBody().front()) {
      if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
        if (failed(impl->lowerConstant(cst)))
          return failure();
        continue;
      }
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        for (Value v : ret.getOperands()) {
          HTensor &t = impl->get(v);
          // Results are their own Funcs (an input returned as it is, or a
          // reshape computed inline, still needs one).
          std::vector<H::Var> vars = axes(t.rank());
          H::Func out("result" + std::to_string(impl->results.size()));
          out(lhs(vars)) = t.f(at(exprs(vars)));
          impl->results.push_back(HTensor{out, t.shape});
          impl->roots.push_back(out);
          if (impl->gpu)
            impl->gpuThreads(out);
        }
        continue;
      }
      if (failed(impl->lowerOp(&op)))
        return failure();
    }
    if (impl->perImage && impl->results.size() == 1) {
      // Each image runs the whole network while its data is in cache.
      H::Func result = impl->roots[0];
      H::Var n = result.args().back();
      for (H::Func &f : impl->stages)
        f.compute_at(result, n);
      result.parallel(n);
    }
    impl->pipeline.emplace(impl->roots);
    if (!impl->ownSchedule) {
      // The autoscheduler plans for the static sizes and this batch.
      auto estimates = [&](const std::vector<int64_t> &shape) {
        H::Region region;
        for (int64_t d : llvm::reverse(shape))
          region.emplace_back(0, static_cast<int>(d < 0 ? batchEstimate : d));
        return region;
      };
      for (size_t i = 0; i < impl->params.size(); ++i) {
        auto type = cast<RankedTensorType>(fn.getArgument(i).getType());
        impl->params[i].set_estimates(estimates(std::vector<int64_t>(
            type.getShape().begin(), type.getShape().end())));
      }
      for (size_t i = 0; i < impl->results.size(); ++i)
        impl->roots[i].set_estimates(estimates(impl->results[i].shape));
      H::load_plugin(std::string(LAYERC_HALIDE_PLUGIN_DIR) +
                     "/libautoschedule_" + schedule + ".so");
      impl->pipeline->auto_schedule(autoscheduler->second, impl->target,
                                    H::MachineParams::generic());
    }
  } catch (const H::Error &e) {
    return fn.emitError() << "Halide: " << e.what();
  }
  return impl;
}
} // namespace

std::vector<Tensor> HalideFunction::run(const std::vector<Tensor> &inputs) {
  int64_t batch =
      inputs.empty() || inputs[0].rank() == 0 ? 1 : inputs[0].dim(0);
  std::vector<View> in, out;
  for (const Tensor &t : inputs)
    in.push_back({const_cast<float *>(t.data<float>()), t.shape()});
  std::vector<Tensor> outs;
  for (const HTensor &r : impl_->results) {
    std::vector<int64_t> shape = r.shape;
    shape[0] = batch;
    outs.emplace_back(shape, DType::Float32);
  }
  for (Tensor &t : outs)
    out.push_back({t.data<float>(), t.shape()});
  run(in, out);
  return outs;
}

void HalideFunction::run(const std::vector<View> &inputs,
                         const std::vector<View> &outputs) {
  bool batched =
      !inputs.empty() && !inputs[0].shape.empty() && inputs[0].shape[0] > 1;
  Impl &m = batched && impl_->images ? *impl_->images : *impl_;
  if (inputs.size() != m.params.size() || outputs.size() != m.results.size())
    throw Error("the Halide function takes " + std::to_string(m.params.size()) +
                " inputs and " + std::to_string(m.results.size()) +
                " results, given " + std::to_string(inputs.size()) + " and " +
                std::to_string(outputs.size()));
  auto buffer = [](const View &v) {
    std::vector<int> sizes;
    for (int64_t d : llvm::reverse(v.shape))
      sizes.push_back(static_cast<int>(d));
    return H::Buffer<float>(v.data, sizes);
  };
  try {
    // Compiled once, on the first call; the arguments go through a ParamMap
    // so that calls share no state.
    std::call_once(m.compiled, [&] { m.pipeline->compile_jit(m.target); });
    H::ParamMap params;
    std::vector<H::Buffer<float>> in;
    in.reserve(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      in.push_back(buffer(inputs[i]));
      params.set(m.params[i], in.back());
    }
    std::vector<H::Buffer<>> bufs;
    for (const View &v : outputs)
      bufs.emplace_back(buffer(v));
    m.pipeline->realize(H::Realization(bufs), m.target, params);
  } catch (const H::Error &e) {
    throw Error(std::string("Halide: ") + e.what());
  }
}

CompiledFunction halide::asCompiledFunction(std::shared_ptr<HalideFunction> fn,
                                            CompiledFunction signature) {
  size_t numIn = signature.inputs.size(), numOut = signature.outputs.size();
  if (numIn != fn->impl_->params.size() || numOut != fn->impl_->results.size())
    throw Error(signature.name + ": the Halide pipeline has " +
                std::to_string(fn->impl_->params.size()) + " arguments and " +
                std::to_string(fn->impl_->results.size()) +
                " results where the function has " + std::to_string(numIn) +
                " and " + std::to_string(numOut));
  std::vector<size_t> ranks;
  for (size_t i = 0; i < numIn; ++i) {
    std::vector<int64_t> shape = signature.inputs[i].shape;
    for (int64_t &d : shape)
      d = d < 0 ? -1 : d;
    std::vector<int64_t> expected = fn->impl_->argShapes[i];
    for (int64_t &d : expected)
      d = d < 0 ? -1 : d;
    if (shape != expected)
      throw Error(signature.name + ": argument " + std::to_string(i) + " (" +
                  signature.inputs[i].str() +
                  ") is not the Halide pipeline's argument of that position");
    ranks.push_back(shape.size());
  }
  for (const BufferSpec &spec : signature.outputs)
    ranks.push_back(spec.shape.size());
  signature.fn = [fn, ranks, numIn](void **args) {
    // args[i] points at a pointer to the i-th (dense) memref descriptor,
    // {allocated, aligned, offset, sizes[R], strides[R]}; the status last.
    std::vector<HalideFunction::View> in, out;
    for (size_t i = 0; i < ranks.size(); ++i) {
      auto *desc = *static_cast<int64_t **>(args[i]);
      HalideFunction::View v{
          reinterpret_cast<float *>(desc[1]) + desc[2],
          std::vector<int64_t>(desc + 3, desc + 3 + ranks[i])};
      (i < numIn ? in : out).push_back(std::move(v));
    }
    fn->run(in, out);
    *static_cast<int32_t *>(args[ranks.size()]) = kStatusOk;
  };
  signature.checkMessages = nullptr;
  signature.arenaBytes = signature.arenaBytesPerSample = 0;
  return signature;
}

std::vector<std::string>
HalideFunction::compileToObjects(const std::string &pathPrefix,
                                 const std::string &name) {
  std::vector<std::string> paths;
  try {
    int k = 0;
    for (Impl *m : {impl_.get(), impl_->images.get()}) {
      if (!m)
        continue;
      std::vector<H::Argument> args(m->params.begin(), m->params.end());
      H::Target target = m->gpu ? m->target : H::get_host_target();
      if (k > 0) // one copy of Halide's runtime
        target = target.with_feature(H::Target::NoRuntime);
      paths.push_back(pathPrefix + "." + std::to_string(k) + ".o");
      m->pipeline->compile_to_object(paths.back(), args,
                                     k ? name + "_images" : name, target);
      ++k;
    }
  } catch (const H::Error &e) {
    throw Error(std::string("Halide: ") + e.what());
  }
  return paths;
}

std::vector<std::vector<int64_t>> HalideFunction::memrefShapes() const {
  std::vector<std::vector<int64_t>> shapes = impl_->argShapes;
  for (const HTensor &t : impl_->results)
    shapes.push_back(t.shape);
  for (std::vector<int64_t> &shape : shapes)
    for (int64_t &size : shape)
      size = size < 0 ? -1 : size; // ShapedType::kDynamic in argShapes
  return shapes;
}

std::string HalideFunction::cShim(const std::string &prefix,
                                  const std::string &name,
                                  const GlueDispatch *dispatch) const {
  std::vector<int> ranks;
  for (const H::ImageParam &p : impl_->params)
    ranks.push_back(p.dimensions());
  for (const HTensor &t : impl_->results)
    ranks.push_back(t.rank());
  return glueSource(prefix, name, ranks, impl_->images != nullptr,
                    impl_->results.size(), impl_->gpu, dispatch);
}
