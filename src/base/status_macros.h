// Small helpers for absl::Status plumbing.
//
//   RETURN_IF_ERROR(DoThing());               // returns the Status if not ok
//   ASSIGN_OR_RETURN(auto fd, OpenSocket());  // unwraps a StatusOr, or
//                                             // returns its Status
//
// Both work in functions returning absl::Status or absl::StatusOr<T>.
#ifndef KISCSI_SRC_BASE_STATUS_MACROS_H_
#define KISCSI_SRC_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KISCSI_CONCAT_INNER_(a, b) a##b
#define KISCSI_CONCAT_(a, b) KISCSI_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status kiscsi_status_ = (expr);          \
    if (!kiscsi_status_.ok()) return kiscsi_status_; \
  } while (0)

#define KISCSI_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr)                                         \
  KISCSI_ASSIGN_OR_RETURN_IMPL_(KISCSI_CONCAT_(kiscsi_statusor_, __LINE__), \
                                lhs, expr)

#endif  // KISCSI_SRC_BASE_STATUS_MACROS_H_
