//===- RandomGraph.h - Random valid layer graphs for differential tests ---===//
//
// A small description of a functional model (one GraphNode per layer call,
// inputs first), a seeded generator of random valid graphs over the
// frontend's layers, a printer that writes a graph as the C++ API code that
// rebuilds it, and a builder that makes the layerc Model. The float64
// reference interpreter of the same description is RandomGraphReference.h;
// RandomGraphTest.cpp compares the two.
//
// Everything the generator draws comes from one 64-bit seed through
// RandomSource (plain modulo arithmetic on std::mt19937_64, whose sequence
// the standard fixes), so a seed gives the same graph, weights and inputs
// with any standard library.
//
// What layerc computes wrongly is kept out of the random space, each case
// at the place it would be generated, under a comment starting "layerc
// bug" with the reproducer: GlobalMaxPooling's gradient at ties, a
// ConvTranspose 'same' output_padding that breaks the gradient, and
// outputs of the same shape computed by MaxPooling / GlobalMaxPooling /
// Dense without bias that come back as copies of each other.
//
// The parts, each a header of its own:
//   RandomGraphShapes.h     the description (RandomSource, GraphNode,
//                           RandomGraph) and Keras's shape rules
//   RandomGraphGenerator.h  the seeded generator (generateGraph)
//   RandomGraphPrinter.h    the C++ printer (toCpp)
//   RandomGraphBuilder.h    the builder of the layerc Model (buildModel)
//
//===----------------------------------------------------------------------===//

#ifndef LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPH_H
#define LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPH_H

#include "RandomGraphBuilder.h"
#include "RandomGraphGenerator.h"
#include "RandomGraphPrinter.h"
#include "RandomGraphShapes.h"

#endif // LAYERC_TEST_UNITTESTS_COMPILER_RANDOMGRAPH_H
