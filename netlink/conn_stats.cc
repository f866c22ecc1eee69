// MibCounters(), declared in netlink/iscsi_kernel.h.
#include <vector>

#include "netlink/iscsi_kernel.h"

namespace kiscsi {

std::vector<StatCounter> MibCounters(const ConnStats& s) {
  return {
      {"txdata_octets", s.txdata_octets}, {"rxdata_octets", s.rxdata_octets},
      {"noptx_pdus", s.noptx_pdus},       {"scsicmd_pdus", s.scsicmd_pdus},
      {"tmfcmd_pdus", s.tmfcmd_pdus},     {"login_pdus", s.login_pdus},
      {"text_pdus", s.text_pdus},         {"dataout_pdus", s.dataout_pdus},
      {"logout_pdus", s.logout_pdus},     {"snack_pdus", s.snack_pdus},
      {"noprx_pdus", s.noprx_pdus},       {"scsirsp_pdus", s.scsirsp_pdus},
      {"tmfrsp_pdus", s.tmfrsp_pdus},     {"textrsp_pdus", s.textrsp_pdus},
      {"datain_pdus", s.datain_pdus},     {"logoutrsp_pdus", s.logoutrsp_pdus},
      {"r2t_pdus", s.r2t_pdus},           {"async_pdus", s.async_pdus},
      {"rjt_pdus", s.rjt_pdus},           {"digest_err", s.digest_err},
      {"timeout_err", s.timeout_err},
  };
}

}  // namespace kiscsi
