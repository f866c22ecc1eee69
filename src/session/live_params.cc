#include "src/session/live_params.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "src/base/log.h"
#include "src/base/status_macros.h"

namespace kiscsi {

absl::Status SetKernelParam(IscsiKernel& kernel, uint32_t sid, uint32_t cid,
                            IscsiParam param, std::string_view value) {
  absl::Status status = kernel.SetParam(
      sid, cid, param, absl::string_view(value.data(), value.size()));
  if (status.code() == absl::StatusCode::kUnimplemented) {
    KISCSI_LOG(kDebug) << "session " << sid
                       << ": kernel does not take parameter "
                       << static_cast<uint32_t>(param) << ": "
                       << status.message();
    return absl::OkStatus();
  }
  return status;
}

absl::Status ApplyTimeoutParams(IscsiKernel& kernel, uint32_t sid, uint32_t cid,
                                const SessionTimeouts& timeouts) {
  const struct {
    IscsiParam param;
    int value;
  } kSettings[] = {
      {IscsiParam::kSessRecoveryTmo, timeouts.recovery_tmo},
      {IscsiParam::kAbortTmo, timeouts.abort_tmo},
      {IscsiParam::kLuResetTmo, timeouts.lu_reset_tmo},
      {IscsiParam::kTgtResetTmo, timeouts.tgt_reset_tmo},
      {IscsiParam::kPingTmo, timeouts.noop_out_timeout},
      {IscsiParam::kRecvTmo, timeouts.noop_out_interval},
  };
  for (const auto& setting : kSettings) {
    RETURN_IF_ERROR(SetKernelParam(kernel, sid, cid, setting.param,
                                   absl::StrCat(setting.value)));
  }
  return absl::OkStatus();
}

}  // namespace kiscsi
