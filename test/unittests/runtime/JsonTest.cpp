//===- JsonTest.cpp - The runtime's JSON value
//-----------------------------===//

#include "RuntimeTestUtil.h"

#include "runtime/Json.h"

#include <gtest/gtest.h>

using namespace layerc;
using layerc::test::errorOf;

namespace {

TEST(JsonTest, RoundTripKeepsKindsOrderAndIntegers) {
  Json config =
      Json::object({{"name", "dense_1"},
                    {"units", 64},
                    {"rate", 0.5},
                    {"one", 1.0},
                    {"use_bias", true},
                    {"bias", nullptr},
                    {"shape", Json::array({Json(nullptr), Json(784)})},
                    {"text", "tab\t quote\" \xc3\xa9 \xf0\x9f\x98\x80"}});
  std::string text = config.dump();
  EXPECT_EQ(text.substr(0, 33), R"({"name":"dense_1","units":64,"rat)");
  Json back = Json::parse(text, "test");
  EXPECT_EQ(back.dump(), text);
  EXPECT_TRUE(back.get("units")->isInteger());
  EXPECT_EQ(back.get("units")->asInt(), 64);
  EXPECT_FALSE(back.get("rate")->isInteger());
  EXPECT_DOUBLE_EQ(back.get("rate")->asDouble(), 0.5);
  EXPECT_FALSE(back.get("one")->isInteger()); // written as 1.0
  EXPECT_TRUE(back.get("use_bias")->asBool());
  EXPECT_TRUE(back.get("bias")->isNull());
  EXPECT_TRUE(back.get("shape")->items()[0].isNull());
  EXPECT_EQ(back.get("text")->asString(), config.get("text")->asString());
  EXPECT_EQ(back.get("missing"), nullptr);
}

TEST(JsonTest, ParsesEscapesAndNumbers) {
  Json j = Json::parse(R"([-12, 3.25e2, "\u00e9\ud83d\ude00\n", false])", "t");
  EXPECT_EQ(j.items()[0].asInt(), -12);
  EXPECT_DOUBLE_EQ(j.items()[1].asDouble(), 325.0);
  EXPECT_EQ(j.items()[2].asString(), "\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_FALSE(j.items()[3].asBool());
}

TEST(JsonTest, ErrorsNameTheContextAndOffset) {
  auto err = [](const std::string &text) {
    return errorOf([&] { Json::parse(text, "model.json"); });
  };
  EXPECT_NE(err("{\"a\":1,}").find("model.json: malformed JSON at byte 7"),
            std::string::npos)
      << err("{\"a\":1,}");
  EXPECT_NE(err("[01]").find("leading zero"), std::string::npos);
  EXPECT_NE(err("[1] 2").find("unexpected data"), std::string::npos);
  EXPECT_NE(err("\"\\x\"").find("bad escape"), std::string::npos);
  EXPECT_NE(err("{\"a\":1,\"a\":2}").find("duplicate key"), std::string::npos);
  EXPECT_NE(err("[1e999]").find("out of range"), std::string::npos);
  EXPECT_NE(err("[99999999999999999999]").find("out of range"),
            std::string::npos);
  EXPECT_NE(err(std::string(100, '[') + std::string(100, ']'))
                .find("nesting too deep"),
            std::string::npos);
  EXPECT_NE(err("\"\xc0\xaf\"").find("UTF-8"), std::string::npos);
  EXPECT_NE(err("tru").find("expected a value"), std::string::npos);
  EXPECT_NE(err("").find("unexpected end"), std::string::npos);
}

} // namespace
