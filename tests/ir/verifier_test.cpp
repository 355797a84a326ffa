// The verifier's messages, and each op's shape rule as Function::add reports it.

#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "ir/error.h"
#include "ir/parser.h"
#include "ir/verifier.h"

namespace kiln::ir {
namespace {

TensorType t(DType dtype, Shape shape) {
  return {dtype, std::move(shape)};
}
TensorType f32(Shape shape) {
  return {DType::F32, std::move(shape)};
}

std::string verify_error(const Function& f) {
  try {
    verify(f);
  } catch (const TypeError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Verifier, AcceptsWellFormedFunctions) {
  Module m = parse_module(R"(func @f(%x: f32[2]) -> f32[2] {
  %0 = exp %x : f32[2]
  return %0
}

func @g(%x: f32[2]) -> f32[2] {
  return %x
})");
  EXPECT_NO_THROW(verify(m));
}

TEST(Verifier, ParameterNamesMustBeUnique) {
  Function f("f");
  Value x = f.add_param("x", f32({2}));
  f.add_param("x", f32({3}));
  f.set_results({x});
  EXPECT_EQ(verify_error(f), "[verify] @f: %x: parameter name used twice");
}

TEST(Verifier, ParametersNeedNames) {
  Function f("f");
  f.set_results({f.add_param("", f32({2}))});
  EXPECT_EQ(verify_error(f), "[verify] @f: parameter 0: has no name");
}

TEST(Verifier, AFunctionReturnsSomething) {
  Function f("f");
  f.add(OpKind::Exp, {f.add_param("x", f32({2}))});
  EXPECT_EQ(verify_error(f), "[verify] @f: return: a function returns at least one value");
}

TEST(Verifier, FunctionNamesAreUniqueInAModule) {
  Module m;
  Function f("f");
  f.set_results({f.add_param("x", f32({}))});
  m.functions = {f, f};
  try {
    verify(m);
    FAIL() << "no error";
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "[verify] @f: function name used twice");
  }
}

// ----- shape rules -----

struct RuleCase {
  const char* name;
  std::function<void(Function&)> build;
  std::string message;
};

Attr ints(std::vector<int64_t> v) {
  return int_list(v);
}

Value param(Function& f, TensorType type) {
  return f.add_param("p" + std::to_string(f.params().size()), std::move(type));
}

std::vector<RuleCase> rule_cases() {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  using K = OpKind;
  return {
      {"unary float op on ints", [](Function& f) { f.add(K::Exp, {param(f, t(DType::I32, {2}))}); },
       "exp expects a float dtype, got i32"},
      {"neg on bool", [](Function& f) { f.add(K::Neg, {param(f, t(DType::Bool, {2}))}); },
       "neg expects an integer or float dtype, got bool"},
      {"not on floats", [](Function& f) { f.add(K::Not, {param(f, f32({2}))}); },
       "not expects a bool or integer dtype, got f32"},
      {"binary shapes",
       [](Function& f) {
         f.add(K::Add, {param(f, f32({3})), param(f, f32({4}))});
       },
       "add expects operands of one shape and dtype, got f32[3] and f32[4]"},
      {"binary dtypes",
       [](Function& f) {
         f.add(K::Lt, {param(f, f32({2})), param(f, t(DType::I32, {2}))});
       },
       "lt expects operands of one shape and dtype, got f32[2] and i32[2]"},
      {"operand count", [](Function& f) { f.add(K::Mul, {param(f, f32({2}))}); },
       "mul takes 2 operands, got 1"},
      {"concatenate without operands",
       [](Function& f) {
         f.add(K::Concatenate, {}, {{"axis", 0}});
       },
       "concatenate takes at least 1 operand, got 0"},
      {"select predicate",
       [](Function& f) {
         Value a = param(f, f32({2}));
         f.add(K::Select, {a, a, a});
       },
       "select expects a bool predicate, got f32[2]"},
      {"select shapes",
       [](Function& f) {
         f.add(K::Select, {param(f, t(DType::Bool, {2})), param(f, f32({2})), param(f, f32({3}))});
       },
       "select expects a predicate and two operands of one shape (and the operands of one dtype), "
       "got bool[2], f32[2] and f32[3]"},
      {"convert shape",
       [](Function& f) { f.add(K::Convert, {param(f, f32({2}))}, {}, t(DType::F16, {3})); },
       "convert keeps the shape: f32[2] cannot become f16[3]"},
      {"convert type missing", [](Function& f) { f.add(K::Convert, {param(f, f32({2}))}); },
       "convert needs its result type written out"},
      {"constant entries",
       [](Function& f) {
         f.add(K::Constant, {}, {{"value", AttrList{1.0, 2.0, 3.0}}}, f32({2}));
       },
       "constant value has 3 entries at depth 0 but the type f32[2] needs 2"},
      {"constant too deep",
       [](Function& f) {
         f.add(K::Constant, {}, {{"value", AttrList{Attr(AttrList{1.0})}}}, f32({1}));
       },
       "constant value has more nesting than its type's rank 1"},
      {"constant too shallow",
       [](Function& f) {
         f.add(K::Constant, {}, {{"value", AttrList{1.0, 2.0}}}, f32({2, 1}));
       },
       "constant value is not nested deeply enough for the type f32[2,1]"},
      {"constant float in ints",
       [](Function& f) {
         f.add(K::Constant, {}, {{"value", 1.5}}, t(DType::I32, {}));
       },
       "constant value 1.5 is a float but the type is i32"},
      {"constant range",
       [](Function& f) {
         f.add(K::Constant, {}, {{"value", 256}}, t(DType::U8, {}));
       },
       "constant value 256 does not fit u8"},
      {"constant bool from int",
       [](Function& f) {
         f.add(K::Constant, {}, {{"value", 1}}, t(DType::Bool, {}));
       },
       "constant of type bool needs true or false, got 1"},
      {"constant string",
       [](Function& f) {
         f.add(K::Constant, {}, {{"value", "s"}}, f32({}));
       },
       "constant value must be a number, a bool or a list, got \"s\""},
      {"constant without value", [](Function& f) { f.add(K::Constant, {}, {}, f32({})); },
       "constant needs attribute 'value'"},
      {"iota axis",
       [](Function& f) {
         f.add(K::Iota, {}, {{"axis", 2}}, t(DType::I32, {2, 3}));
       },
       "iota axis 2 is out of range for rank 2"},
      {"iota dtype",
       [](Function& f) {
         f.add(K::Iota, {}, {{"axis", 0}}, t(DType::Bool, {2}));
       },
       "iota expects an integer or float dtype, got bool"},
      {"iota axis kind",
       [](Function& f) {
         f.add(K::Iota, {}, {{"axis", ints({0})}}, t(DType::I32, {2}));
       },
       "attribute 'axis' of iota must be an integer"},
      {"broadcast dims not increasing",
       [](Function& f) {
         f.add(K::Broadcast, {param(f, f32({2, 2}))},
               {{"shape", ints({2, 2})}, {"dims", ints({1, 0})}});
       },
       "broadcast dims must increase, got [1,0]"},
      {"broadcast stretch",
       [](Function& f) {
         f.add(K::Broadcast, {param(f, f32({3}))}, {{"shape", ints({2, 4})}, {"dims", ints({1})}});
       },
       "broadcast cannot stretch operand dimension 0 of size 3 to size 4 (result dimension 1)"},
      {"broadcast dims count",
       [](Function& f) {
         f.add(K::Broadcast, {param(f, f32({3}))},
               {{"shape", ints({3, 3})}, {"dims", ints({0, 1})}});
       },
       "broadcast attribute 'dims' needs 1 entries (the operand's rank), got 2"},
      {"broadcast negative shape",
       [](Function& f) {
         f.add(K::Broadcast, {param(f, f32({}))}, {{"shape", ints({-1})}, {"dims", ints({})}});
       },
       "broadcast shape [-1] has a negative dimension"},
      {"reshape count",
       [](Function& f) {
         f.add(K::Reshape, {param(f, f32({2, 3}))}, {{"shape", ints({4})}});
       },
       "reshape cannot change the element count: f32[2,3] has 6, shape [4] has 4"},
      {"reshape count overflow",  // 2^64 elements once wrapped to 0 and matched an empty operand
       [](Function& f) {
         f.add(K::Reshape, {param(f, f32({0}))}, {{"shape", ints({4294967296, 4294967296})}});
       },
       "reshape shape [4294967296,4294967296] has too many elements to count"},
      {"transpose perm range",
       [](Function& f) {
         f.add(K::Transpose, {param(f, f32({2, 3}))}, {{"perm", ints({0, 2})}});
       },
       "transpose perm entry 2 is out of range for rank 2"},
      {"transpose perm repeat",
       [](Function& f) {
         f.add(K::Transpose, {param(f, f32({2, 3}))}, {{"perm", ints({1, 1})}});
       },
       "transpose perm entry lists axis 1 twice"},
      {"slice bounds",
       [](Function& f) {
         f.add(K::Slice, {param(f, f32({10}))}, {{"start", ints({2})}, {"limit", ints({11})}});
       },
       "slice needs 0 <= start <= limit <= size in every dimension; dimension 0 has start 2, "
       "limit 11, size 10"},
      {"slice stride",
       [](Function& f) {
         f.add(K::Slice, {param(f, f32({10}))},
               {{"start", ints({0})}, {"limit", ints({4})}, {"stride", ints({0})}});
       },
       "slice strides must be positive, got [0]"},
      {"slice rank",
       [](Function& f) {
         f.add(K::Slice, {param(f, f32({10}))}, {{"start", ints({0, 0})}, {"limit", ints({4})}});
       },
       "slice attribute 'start' needs 1 entries (the operand's rank), got 2"},
      {"pad negative",
       [](Function& f) {
         f.add(K::Pad, {param(f, f32({3})), param(f, f32({}))},
               {{"low", ints({-1})}, {"high", ints({0})}});
       },
       "pad amounts must be non-negative, got low [-1], high [0], interior [0]"},
      {"pad value",
       [](Function& f) {
         f.add(K::Pad, {param(f, f32({3})), param(f, f32({1}))},
               {{"low", ints({0})}, {"high", ints({0})}});
       },
       "pad expects a scalar padding value of the operand's dtype, got f32[3] and f32[1]"},
      {"pad overflow",  // once wrapped to a negative dimension
       [](Function& f) {
         f.add(K::Pad, {param(f, f32({3})), param(f, f32({}))},
               {{"low", ints({kMax})}, {"high", ints({kMax})}});
       },
       "pad result dimension 0 is too large to count"},
      {"concatenate shapes",
       [](Function& f) {
         f.add(K::Concatenate, {param(f, f32({2, 3})), param(f, f32({2, 4}))}, {{"axis", 0}});
       },
       "concatenate expects operands of one dtype and rank that agree off axis 0, got f32[2,3] "
       "and f32[2,4]"},
      {"concatenate axis",
       [](Function& f) {
         f.add(K::Concatenate, {param(f, f32({2, 3}))}, {{"axis", 2}});
       },
       "concatenate axis 2 is out of range for rank 2"},
      {"reduce axis range",
       [](Function& f) {
         f.add(K::ReduceSum, {param(f, f32({2, 3}))}, {{"axes", ints({2})}});
       },
       "reduce_sum axis 2 is out of range for rank 2"},
      {"reduce axis twice",
       [](Function& f) {
         f.add(K::ReduceMax, {param(f, f32({2, 3}))}, {{"axes", ints({1, 1})}});
       },
       "reduce_max axis lists axis 1 twice"},
      {"reduce_prod on bool",
       [](Function& f) {
         f.add(K::ReduceProd, {param(f, t(DType::Bool, {2}))}, {{"axes", ints({0})}});
       },
       "reduce_prod expects an integer or float dtype, got bool"},
      {"reduce_min axes kind",
       [](Function& f) {
         f.add(K::ReduceMin, {param(f, f32({2}))}, {{"axes", 0}});
       },
       "attribute 'axes' of reduce_min must be a list of integers"},
      {"argmax empty axis",
       [](Function& f) {
         f.add(K::Argmax, {param(f, f32({0, 3}))}, {{"axis", 0}});
       },
       "argmax needs a non-empty axis, got f32[0,3]"},
      {"argmin axis",
       [](Function& f) {
         f.add(K::Argmin, {param(f, f32({3}))}, {{"axis", -1}});
       },
       "argmin axis -1 is out of range for rank 1"},
      {"dot_general contracting sizes",
       [](Function& f) {
         f.add(K::DotGeneral, {param(f, f32({2, 3})), param(f, f32({4, 5}))},
               {{"lhs_contract", ints({1})}, {"rhs_contract", ints({0})}});
       },
       "dot_general contracting dimensions differ in size: lhs dimension 1 of f32[2,3] and rhs "
       "dimension 0 of f32[4,5]"},
      {"dot_general dtypes",
       [](Function& f) {
         f.add(K::DotGeneral, {param(f, f32({2, 3})), param(f, t(DType::F16, {3, 4}))},
               {{"lhs_contract", ints({1})}, {"rhs_contract", ints({0})}});
       },
       "dot_general expects operands of one dtype, got f32[2,3] and f16[3,4]"},
      {"dot_general batch lengths",
       [](Function& f) {
         f.add(
             K::DotGeneral, {param(f, f32({2, 3})), param(f, f32({3, 4}))},
             {{"lhs_batch", ints({0})}, {"lhs_contract", ints({1})}, {"rhs_contract", ints({0})}});
       },
       "dot_general lhs_batch and rhs_batch differ in length: [0] and []"},
      {"dot_general dimension reused",
       [](Function& f) {
         f.add(K::DotGeneral, {param(f, f32({3, 3})), param(f, f32({3, 3}))},
               {{"lhs_batch", ints({0})},
                {"rhs_batch", ints({0})},
                {"lhs_contract", ints({0})},
                {"rhs_contract", ints({1})}});
       },
       "dot_general lhs dimension lists axis 0 twice"},
      {"dot_general needs contract",
       [](Function& f) {
         f.add(K::DotGeneral, {param(f, f32({3})), param(f, f32({3}))},
               {{"lhs_contract", ints({0})}});
       },
       "dot_general needs attribute 'rhs_contract'"},
      {"take float indices",
       [](Function& f) {
         f.add(K::Take, {param(f, f32({5, 3})), param(f, f32({2}))}, {{"axis", 0}});
       },
       "take expects integer indices, got f32[2]"},
      {"take empty axis",
       [](Function& f) {
         f.add(K::Take, {param(f, f32({0, 3})), param(f, t(DType::I32, {2}))}, {{"axis", 0}});
       },
       "take needs a non-empty axis, got f32[0,3]"},
      {"scatter_add updates",
       [](Function& f) {
         f.add(K::ScatterAdd,
               {param(f, f32({5, 3})), param(f, t(DType::I32, {4})), param(f, f32({4, 2}))},
               {{"axis", 0}});
       },
       "scatter_add expects updates of type f32[4,3] (operand f32[5,3] with indices i32[4] on axis "
       "0), got f32[4,2]"},
      {"scatter_add on bool",
       [](Function& f) {
         f.add(K::ScatterAdd,
               {param(f, t(DType::Bool, {5})), param(f, t(DType::I32, {4})),
                param(f, t(DType::Bool, {4}))},
               {{"axis", 0}});
       },
       "scatter_add expects an integer or float dtype, got bool"},
  };
}

TEST(ShapeRules, EachRuleNamesWhatIsWrong) {
  for (const RuleCase& c : rule_cases()) {
    SCOPED_TRACE(c.name);
    Function f("f");
    try {
      c.build(f);
      ADD_FAILURE() << "no error";
    } catch (const TypeError& e) {
      EXPECT_EQ(std::string(e.what()), c.message);
    }
  }
}

TEST(ShapeRules, HugeStridesAndPadsStayExact) {
  // Formerly computed through overflowing intermediates.
  Function f("f");
  Value x = f.add_param("x", f32({10}));
  Value s = f.add(OpKind::Slice, {x},
                  {{"start", ints({1})},
                   {"limit", ints({10})},
                   {"stride", ints({std::numeric_limits<int64_t>::max()})}});
  EXPECT_EQ(f.type(s), f32({1}));
  Value empty = f.add(OpKind::Slice, {x}, {{"start", ints({4})}, {"limit", ints({4})}});
  EXPECT_EQ(f.type(empty), f32({0}));
  Value p = f.add(OpKind::Pad, {x, f.add_param("z", f32({}))},
                  {{"low", ints({1})}, {"high", ints({2})}, {"interior", ints({3})}});
  EXPECT_EQ(f.type(p), f32({1 + 2 + 10 + 9 * 3}));
}

}  // namespace
}  // namespace kiln::ir
