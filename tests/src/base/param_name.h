// Names for the cases of parameterized tests. gtest names a case by its index
// unless told otherwise, and ctest (gtest_discover_tests) shows the printed
// parameter, a byte dump for a struct; these give readable names made of
// letters, digits and '_', the only characters gtest accepts.
//
//   INSTANTIATE_TEST_SUITE_P(Specs, PortalTest, ::testing::Values(...),
//                            [](const auto& info) {
//                              return ParamName(info.param.spec, info.index);
//                            });
#ifndef KISCSI_TESTS_SRC_BASE_PARAM_NAME_H_
#define KISCSI_TESTS_SRC_BASE_PARAM_NAME_H_

#include <string>
#include <string_view>

namespace kiscsi {

// `text` with each run of other characters than letters and digits made one
// '_' (none at either end); "empty" for a text without letters or digits.
inline std::string ParamName(std::string_view text) {
  std::string name;
  bool gap = false;
  for (char c : text) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9');
    if (!alnum) {
      gap = true;
      continue;
    }
    if (gap && !name.empty()) name += '_';
    gap = false;
    name += c;
  }
  return name.empty() ? "empty" : name;
}

// The case's index in front ("3_127_0_0_1_3261"): unique even where texts
// differ only in punctuation ("127.0.0.1:" and "127.0.0.1,").
inline std::string ParamName(std::string_view text, size_t index) {
  return std::to_string(index) + "_" + ParamName(text);
}

}  // namespace kiscsi

#endif  // KISCSI_TESTS_SRC_BASE_PARAM_NAME_H_
