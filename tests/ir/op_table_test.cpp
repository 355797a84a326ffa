// The op table's traits agree with the ops' arity and rules, and the typed attribute views agree
// with the schema: view -> attrs -> view and canonical attrs -> view -> attrs are identities.

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "ir/error.h"
#include "ir/function.h"
#include "ir/parser.h"

namespace kiln::ir {
namespace {

using T = OpTrait;

// Whether the op can have an operand k (it takes more than k).
bool may_have_operand(const OpInfo& info, int k) {
  return info.max_operands < 0 || info.max_operands > k;
}

TEST(OpTraits, ElementwiseKindsHaveTheirArity) {
  for (OpKind op : all_ops()) {
    const OpInfo& info = op_info(op);
    SCOPED_TRACE(std::string(info.name));
    const int kinds =
        info.traits.has(T::Unary) + info.traits.has(T::Binary) + info.traits.has(T::Comparison);
    EXPECT_LE(kinds, 1) << "unary, binary and comparison exclude each other";
    if (kinds) {
      EXPECT_TRUE(info.traits.has(T::Elementwise));
    }
    if (info.traits.has(T::Unary)) {
      EXPECT_TRUE(info.min_operands == 1 && info.max_operands == 1);
    }
    if (info.traits.has(T::Binary) || info.traits.has(T::Comparison)) {
      EXPECT_TRUE(info.min_operands == 2 && info.max_operands == 2);
    }
    if (info.traits.has(T::Elementwise)) {
      EXPECT_GE(info.min_operands, 1);
      EXPECT_EQ(info.attr_family, AttrFamily::None) << "elementwise ops have no attributes";
    }
  }
}

TEST(OpTraits, ReductionsHaveOneOperandAndTheirAttributeView) {
  int reductions = 0;
  for (OpKind op : all_ops()) {
    const OpInfo& info = op_info(op);
    SCOPED_TRACE(std::string(info.name));
    if (info.traits.has(T::ArgReduction)) {
      EXPECT_TRUE(info.traits.has(T::Reduction));
      EXPECT_EQ(info.attr_family, AttrFamily::ArgReduce);
    }
    if (!info.traits.has(T::Reduction)) {
      EXPECT_NE(info.attr_family, AttrFamily::Reduce);
      EXPECT_NE(info.attr_family, AttrFamily::ArgReduce);
      continue;
    }
    ++reductions;
    EXPECT_TRUE(info.min_operands == 1 && info.max_operands == 1);
    EXPECT_FALSE(info.traits.has(T::Elementwise));
    if (!info.traits.has(T::ArgReduction)) {
      EXPECT_EQ(info.attr_family, AttrFamily::Reduce);
    }
  }
  EXPECT_EQ(reductions, 6);
  for (OpKind op : {OpKind::ReduceSum, OpKind::ReduceMax, OpKind::ReduceMin, OpKind::ReduceProd,
                    OpKind::Argmax, OpKind::Argmin})
    EXPECT_TRUE(has_trait(op, T::Reduction)) << op_name(op);
}

TEST(OpTraits, LinearityNamesOperandsTheOpHas) {
  for (OpKind op : all_ops()) {
    const OpInfo& info = op_info(op);
    SCOPED_TRACE(std::string(info.name));
    const OpTrait linear_in[] = {T::LinearIn0, T::LinearIn1, T::LinearIn2};
    for (int k = 0; k < 3; ++k)
      if (info.traits.has(linear_in[k])) {
        EXPECT_TRUE(may_have_operand(info, k)) << "linear in an operand it lacks";
        EXPECT_TRUE(is_linear_in(op, k));
      }
    if (info.traits.has(T::LinearInAll)) {
      EXPECT_LT(info.max_operands, 0) << "for variadic ops";
    }
    // Only float values carry tangents, so a linear op must take floats.
    for (int k = 0; k < 3; ++k)
      if (is_linear_in(op, k)) {
        EXPECT_TRUE(info.traits.has(T::AcceptsFloat));
      }
  }
  EXPECT_TRUE(is_linear_in(OpKind::Concatenate, 7));
  EXPECT_FALSE(is_linear_in(OpKind::Select, 0)) << "the predicate";
  EXPECT_FALSE(is_linear_in(OpKind::Exp, 0));
}

TEST(OpTraits, EveryOpTakesSomeDtype) {
  for (OpKind op : all_ops()) {
    const OpTraits traits = op_info(op).traits;
    EXPECT_TRUE(traits.has(T::AcceptsBool) || traits.has(T::AcceptsInteger) ||
                traits.has(T::AcceptsFloat))
        << op_name(op);
  }
}

// The elementwise rule accepts exactly the dtypes the table says: a new op gets no rule by
// default.
TEST(OpTraits, ElementwiseRuleAcceptsTheTablesDtypes) {
  int checked = 0;
  for (OpKind op : all_ops()) {
    const OpTraits traits = op_info(op).traits;
    if (!traits.has(T::Unary) && !traits.has(T::Binary) && !traits.has(T::Comparison)) continue;
    for (DType d : kAllDTypes) {
      const TensorType t{d, {3}};
      std::vector<TensorType> operands(static_cast<size_t>(op_info(op).min_operands), t);
      SCOPED_TRACE(std::string(op_name(op)) + " on " + std::string(dtype_name(d)));
      if (accepts_dtype(op, d)) {
        const TensorType result = infer_type(op, operands, {}, std::nullopt);
        const TensorType expected = traits.has(T::Comparison) ? TensorType{DType::Bool, {3}} : t;
        EXPECT_EQ(result, expected);
      } else {
        EXPECT_THROW(infer_type(op, operands, {}, std::nullopt), TypeError);
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 300);
}

TEST(OpTraits, DtypeErrorsNameTheAcceptedClasses) {
  const std::vector<TensorType> ints{{DType::I32, {2}}};
  const std::vector<TensorType> floats{{DType::F32, {2}}, {DType::F32, {2}}};
  auto message = [](OpKind op, std::span<const TensorType> in) {
    try {
      infer_type(op, in, {}, std::nullopt);
    } catch (const TypeError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(OpKind::Exp, ints), "exp expects a float dtype, got i32");
  EXPECT_EQ(message(OpKind::And, floats), "and expects a bool or integer dtype, got f32");
  const std::vector<TensorType> bools{{DType::Bool, {2}}};
  EXPECT_EQ(message(OpKind::Neg, bools), "neg expects an integer or float dtype, got bool");
}

TEST(AttrSchema, OpsCarryTheirFamilysSchema) {
  for (OpKind op : all_ops()) {
    const OpInfo& info = op_info(op);
    const std::span<const AttrSpec> schema = attr_schema(info.attr_family);
    ASSERT_EQ(info.attrs.size(), schema.size()) << info.name;
    std::set<std::string_view> names;
    for (size_t i = 0; i < schema.size(); ++i) {
      EXPECT_EQ(info.attrs[i].name, schema[i].name);
      EXPECT_TRUE(names.insert(schema[i].name).second) << info.name << " repeats a name";
    }
  }
  EXPECT_EQ(attr_schema(AttrFamily::DotGeneral)[2].name, "lhs_contract");
  EXPECT_EQ(CallAttrs::callee_name, "callee");
}

TEST(AttrViews, ViewToAttrsToView) {
  const DotGeneralAttrs dot{{0}, {0}, {2}, {1}};
  EXPECT_EQ(dot_general_attrs(make_attrs(dot)), dot);
  const SliceAttrs slice{{0, 1}, {4, 3}, {2, 1}};
  EXPECT_EQ(slice_attrs(make_attrs(slice)), slice);
  const PadAttrs pad{{1}, {0}, {2}};
  EXPECT_EQ(pad_attrs(make_attrs(pad)), pad);
  const BroadcastAttrs broadcast{{2, 3}, {1}};
  EXPECT_EQ(broadcast_attrs(make_attrs(broadcast)), broadcast);
  EXPECT_EQ(reduce_attrs(make_attrs(ReduceAttrs{{0, 2}})).axes, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(arg_reduce_attrs(make_attrs(ArgReduceAttrs{1})).axis, 1);
  EXPECT_EQ(transpose_attrs(make_attrs(TransposeAttrs{{1, 0}})).perm, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(reshape_attrs(make_attrs(ReshapeAttrs{{6}})).shape, (Shape{6}));
  EXPECT_EQ(concatenate_attrs(make_attrs(ConcatenateAttrs{2})).axis, 2);
  EXPECT_EQ(iota_attrs(make_attrs(IotaAttrs{0})).axis, 0);
  EXPECT_EQ(take_attrs(make_attrs(TakeAttrs{1})).axis, 1);
  EXPECT_EQ(scatter_add_attrs(make_attrs(ScatterAddAttrs{0})).axis, 0);
  const ConstantAttrs constant{AttrList{1.5, -0.0}};
  EXPECT_EQ(constant_attrs(make_attrs(constant)), constant);
  for (const CallAttrs& call :
       {CallAttrs{.callee = "f"}, CallAttrs{.callee = "f", .result = 2, .vjp = "g"},
        CallAttrs{.callee = "f", .checkpoint = 1}})
    EXPECT_EQ(call_attrs(make_attrs(call)), call);
}

TEST(AttrViews, DefaultsAreFilledOrLeftOutAsTheSchemaSays) {
  // Filled: the view gives the default and make_attrs writes it out.
  const SliceAttrs slice =
      slice_attrs(Attrs{{"start", int_list({0, 1})}, {"limit", int_list({2, 3})}});
  EXPECT_EQ(slice.stride, (std::vector<int64_t>{1, 1}));
  EXPECT_TRUE(make_attrs(slice).has("stride"));
  EXPECT_EQ(pad_attrs(Attrs{{"low", int_list({1})}, {"high", int_list({0})}}).interior,
            (std::vector<int64_t>{0}));
  const DotGeneralAttrs dot =
      dot_general_attrs(Attrs{{"lhs_contract", int_list({1})}, {"rhs_contract", int_list({0})}});
  EXPECT_TRUE(dot.lhs_batch.empty() && dot.rhs_batch.empty());
  // Elided: the default is the absent attribute; optional: absence is its own meaning.
  const CallAttrs call = call_attrs(Attrs{{"callee", "f"}});
  EXPECT_EQ(call.result, 0);
  EXPECT_EQ(call.checkpoint, 0);
  EXPECT_FALSE(call.vjp.has_value());
  EXPECT_EQ(make_attrs(call), (Attrs{{"callee", "f"}}));
  EXPECT_EQ(make_attrs(CallAttrs{.callee = "f", .result = 1}),
            (Attrs{{"callee", "f"}, {"result", int64_t{1}}}));
}

// Every node of the sample with every op holds canonical attributes, which its view reads and
// make_attrs writes back unchanged.
Attrs through_view(const Node& node) {
  switch (op_info(node.op).attr_family) {
    case AttrFamily::None:
      return node.attrs;
    case AttrFamily::Constant:
      return make_attrs(constant_attrs(node));
    case AttrFamily::Iota:
      return make_attrs(iota_attrs(node));
    case AttrFamily::RngBits:
      return make_attrs(rng_bits_attrs(node));
    case AttrFamily::Broadcast:
      return make_attrs(broadcast_attrs(node));
    case AttrFamily::Reshape:
      return make_attrs(reshape_attrs(node));
    case AttrFamily::Transpose:
      return make_attrs(transpose_attrs(node));
    case AttrFamily::Slice:
      return make_attrs(slice_attrs(node));
    case AttrFamily::Pad:
      return make_attrs(pad_attrs(node));
    case AttrFamily::Concatenate:
      return make_attrs(concatenate_attrs(node));
    case AttrFamily::Reduce:
      return make_attrs(reduce_attrs(node));
    case AttrFamily::ArgReduce:
      return make_attrs(arg_reduce_attrs(node));
    case AttrFamily::DotGeneral:
      return make_attrs(dot_general_attrs(node));
    case AttrFamily::Take:
      return make_attrs(take_attrs(node));
    case AttrFamily::ScatterAdd:
      return make_attrs(scatter_add_attrs(node));
    case AttrFamily::Scan:
      return make_attrs(scan_attrs(node));
    case AttrFamily::AlongAxis:
      return make_attrs(along_axis_attrs(node));
    case AttrFamily::ScatterAlongAxis:
      return make_attrs(scatter_along_axis_attrs(node));
    case AttrFamily::Call:
      return make_attrs(call_attrs(node));
  }
  ADD_FAILURE() << "a family without a view";
  return {};
}

TEST(AttrViews, CanonicalAttrsRoundTripThroughTheirView) {
  const Module module = parse_file(std::string(KILN_SOURCE_DIR) + "/tests/ir/kir/all_ops.kir");
  std::set<OpKind> seen;
  for (const Function& f : module.functions)
    for (const Node& node : f.nodes()) {
      seen.insert(node.op);
      EXPECT_EQ(through_view(node), node.attrs) << op_name(node.op) << " in @" << f.name();
    }
  for (OpKind op : all_ops())
    if (op != OpKind::Call) {
      EXPECT_TRUE(seen.count(op)) << "all_ops.kir lacks " << op_name(op);
    }
}

}  // namespace
}  // namespace kiln::ir
