// Golden-byte tests for every PDU type: the expected 48-byte headers below are
// written out from the figures of RFC 7143 section 11, one row per 8 bytes.
#include "src/protocol/pdu.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiscsi {
namespace {

using ::testing::HasSubstr;

Pdu FromGolden(const Bhs& bhs, std::vector<uint8_t> data = {}) {
  Pdu pdu;
  pdu.bhs = bhs;
  pdu.data = std::move(data);
  return pdu;
}

std::string Message(const absl::Status& status) {
  return std::string(status.message());
}

// ---- Login Request (11.12) ----

const Bhs kLoginRequestBhs = {
    0x43, 0x87, 0x02, 0x01, 0x00, 0x00, 0x00, 0x04,  // I|0x03, T|CSG=1|NSG=3
    0x80, 0x12, 0x34, 0x56, 0x78, 0x9a, 0x01, 0x02,  // ISID, TSIH
    0x0a, 0x0b, 0x0c, 0x0d, 0x03, 0x04, 0x00, 0x00,  // ITT, CID
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,  // CmdSN, ExpStatSN
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

LoginRequestPdu SampleLoginRequest() {
  LoginRequestPdu r;
  r.transit = true;
  r.csg = LoginStage::kOperationalNegotiation;
  r.nsg = LoginStage::kFullFeaturePhase;
  r.version_max = 0x02;
  r.version_min = 0x01;
  r.isid = {0x80, 0x12, 0x34, 0x56, 0x78, 0x9a};
  r.tsih = 0x0102;
  r.itt = 0x0a0b0c0d;
  r.cid = 0x0304;
  r.cmdsn = 0x11223344;
  r.exp_statsn = 0x55667788;
  r.data = {'a', '=', 'b', 0};
  return r;
}

TEST(LoginRequestTest, EncodesGoldenBytes) {
  const Pdu pdu = Encode(SampleLoginRequest());
  EXPECT_EQ(pdu.bhs, kLoginRequestBhs);
  EXPECT_EQ(pdu.data, (std::vector<uint8_t>{'a', '=', 'b', 0}));
  EXPECT_TRUE(pdu.immediate());
}

TEST(LoginRequestTest, DecodesGoldenBytes) {
  auto r = DecodeLoginRequest(FromGolden(kLoginRequestBhs, {'a', '=', 'b', 0}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->transit);
  EXPECT_FALSE(r->cont);
  EXPECT_EQ(r->csg, LoginStage::kOperationalNegotiation);
  EXPECT_EQ(r->nsg, LoginStage::kFullFeaturePhase);
  EXPECT_EQ(r->version_max, 0x02);
  EXPECT_EQ(r->version_min, 0x01);
  EXPECT_EQ(r->isid, (Isid{0x80, 0x12, 0x34, 0x56, 0x78, 0x9a}));
  EXPECT_EQ(r->tsih, 0x0102);
  EXPECT_EQ(r->itt, 0x0a0b0c0du);
  EXPECT_EQ(r->cid, 0x0304);
  EXPECT_EQ(r->cmdsn, 0x11223344u);
  EXPECT_EQ(r->exp_statsn, 0x55667788u);
  EXPECT_EQ(r->data, (std::vector<uint8_t>{'a', '=', 'b', 0}));
}

TEST(LoginRequestTest, ImmediateBitIsAlwaysSet) {
  LoginRequestPdu r;
  EXPECT_EQ(Encode(r).bhs[0], 0x43);
}

TEST(LoginRequestTest, NsgIsNotWrittenWithoutTransit) {
  LoginRequestPdu r;
  r.csg = LoginStage::kSecurityNegotiation;
  r.nsg = LoginStage::kFullFeaturePhase;
  r.cont = true;
  EXPECT_EQ(Encode(r).bhs[1], 0x40);
}

// ---- Login Response (11.13) ----

const Bhs kLoginResponseBhs = {
    0x23, 0x81, 0x07, 0x05, 0x00, 0x00, 0x00, 0x00,  // T|CSG=0|NSG=1
    0x40, 0x00, 0x01, 0x37, 0x00, 0x00, 0x00, 0x10,  // ISID, TSIH
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // ITT
    0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x02,  // StatSN, ExpCmdSN
    0x00, 0x00, 0x00, 0x21, 0x02, 0x01, 0x00, 0x00,  // MaxCmdSN, class, detail
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST(LoginResponseTest, EncodesGoldenBytes) {
  LoginResponse r;
  r.transit = true;
  r.csg = LoginStage::kSecurityNegotiation;
  r.nsg = LoginStage::kOperationalNegotiation;
  r.version_max = 0x07;
  r.version_active = 0x05;
  r.isid = {0x40, 0x00, 0x01, 0x37, 0x00, 0x00};
  r.tsih = 0x0010;
  r.itt = 1;
  r.statsn = 0x12345678;
  r.exp_cmdsn = 2;
  r.max_cmdsn = 0x21;
  r.status_class = 2;
  r.status_detail = 1;
  EXPECT_EQ(Encode(r).bhs, kLoginResponseBhs);
}

TEST(LoginResponseTest, DecodesGoldenBytes) {
  auto r = DecodeLoginResponse(FromGolden(kLoginResponseBhs));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->transit);
  EXPECT_FALSE(r->cont);
  EXPECT_EQ(r->csg, LoginStage::kSecurityNegotiation);
  EXPECT_EQ(r->nsg, LoginStage::kOperationalNegotiation);
  EXPECT_EQ(r->version_max, 0x07);
  EXPECT_EQ(r->version_active, 0x05);
  EXPECT_EQ(r->isid, (Isid{0x40, 0x00, 0x01, 0x37, 0x00, 0x00}));
  EXPECT_EQ(r->tsih, 0x0010);
  EXPECT_EQ(r->itt, 1u);
  EXPECT_EQ(r->statsn, 0x12345678u);
  EXPECT_EQ(r->exp_cmdsn, 2u);
  EXPECT_EQ(r->max_cmdsn, 0x21u);
  EXPECT_EQ(r->status_class, 2);
  EXPECT_EQ(r->status_detail, 1);
  EXPECT_TRUE(r->data.empty());
}

TEST(LoginResponseTest, TransitAndContinueTogetherIsAnError) {
  Bhs bhs = kLoginResponseBhs;
  bhs[1] = 0xc1;
  auto r = DecodeLoginResponse(FromGolden(bhs));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(r.status()), HasSubstr("both the T and C bits"));
}

TEST(LoginResponseTest, ReservedNextStageIsAnError) {
  Bhs bhs = kLoginResponseBhs;
  bhs[1] = 0x82;  // T, CSG=0, NSG=2
  auto r = DecodeLoginResponse(FromGolden(bhs));
  EXPECT_THAT(Message(r.status()), HasSubstr("reserved NSG value 2"));
}

TEST(LoginResponseTest, ReservedCurrentStageIsAnError) {
  Bhs bhs = kLoginResponseBhs;
  bhs[1] = 0x89;  // T, CSG=2, NSG=1
  auto r = DecodeLoginResponse(FromGolden(bhs));
  EXPECT_THAT(Message(r.status()), HasSubstr("CSG 2"));
  bhs[1] = 0x8f;  // T, CSG=3, NSG=3
  r = DecodeLoginResponse(FromGolden(bhs));
  EXPECT_THAT(Message(r.status()), HasSubstr("CSG 3"));
}

TEST(LoginResponseTest, NextStageIsIgnoredWithoutTransit) {
  Bhs bhs = kLoginResponseBhs;
  bhs[1] = 0x06;  // CSG=1, NSG bits 2 but T=0: reserved, not meaningful
  auto r = DecodeLoginResponse(FromGolden(bhs));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->transit);
  EXPECT_EQ(r->csg, LoginStage::kOperationalNegotiation);
}

TEST(LoginResponseTest, WrongOpcodeNamesBoth) {
  auto r =
      DecodeLoginResponse(FromGolden(kLoginRequestBhs, {'a', '=', 'b', 0}));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(r.status()),
              HasSubstr("expected Login Response (0x23) PDU, got Login "
                        "Request (0x03)"));
}

TEST(LoginResponseTest, DataLengthMustMatchData) {
  Bhs bhs = kLoginResponseBhs;
  bhs[7] = 8;
  auto r = DecodeLoginResponse(FromGolden(bhs, {'a', '=', 'b', 0}));
  EXPECT_THAT(Message(r.status()),
              HasSubstr("declares a data segment of 8 bytes but carries 4"));
}

TEST(LoginResponseTest, AhsLengthMustMatchAhs) {
  Bhs bhs = kLoginResponseBhs;
  bhs[4] = 1;
  auto r = DecodeLoginResponse(FromGolden(bhs));
  EXPECT_THAT(Message(r.status()),
              HasSubstr("declares 4 bytes of AHS but carries 0"));
}

// ---- Text Request / Response (11.10, 11.11) ----

const Bhs kTextRequestBhs = {
    0x44, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,  // I|0x04, F, DSL 16
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN
    0x00, 0x00, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff,  // ITT, TTT
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x09,  // CmdSN, ExpStatSN
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

TEST(TextRequestTest, EncodesAndDecodesGoldenBytes) {
  TextRequest r;
  r.lun = 0x0001000000000000;
  r.itt = 5;
  r.cmdsn = 7;
  r.exp_statsn = 9;
  r.data = Bytes(std::string("SendTargets=All\0", 16));
  const Pdu pdu = Encode(r);
  EXPECT_EQ(pdu.bhs, kTextRequestBhs);

  auto d = DecodeTextRequest(FromGolden(kTextRequestBhs, r.data));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->final);
  EXPECT_FALSE(d->cont);
  EXPECT_TRUE(d->immediate);
  EXPECT_EQ(d->lun, 0x0001000000000000u);
  EXPECT_EQ(d->itt, 5u);
  EXPECT_EQ(d->ttt, kReservedTag);
  EXPECT_EQ(d->cmdsn, 7u);
  EXPECT_EQ(d->exp_statsn, 9u);
  EXPECT_EQ(d->data, r.data);
}

TEST(TextRequestTest, FinalAndContinueTogetherIsAnError) {
  Bhs bhs = kTextRequestBhs;
  bhs[1] = 0xc0;
  bhs[7] = 0;
  EXPECT_THAT(Message(DecodeTextRequest(FromGolden(bhs)).status()),
              HasSubstr("both the F and C bits"));
}

const Bhs kTextResponseBhs = {
    0x24, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,  // C, DSL 3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x0a, 0xbc,  // ITT, TTT
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x08,  // StatSN, ExpCmdSN
    0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00,  // MaxCmdSN
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST(TextResponseTest, EncodesAndDecodesGoldenBytes) {
  TextResponse r;
  r.final = false;
  r.cont = true;
  r.itt = 5;
  r.ttt = 0xabc;
  r.statsn = 0x100;
  r.exp_cmdsn = 8;
  r.max_cmdsn = 0x28;
  r.data = Bytes("a=b");
  EXPECT_EQ(Encode(r).bhs, kTextResponseBhs);

  auto d = DecodeTextResponse(FromGolden(kTextResponseBhs, Bytes("a=b")));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->final);
  EXPECT_TRUE(d->cont);
  EXPECT_EQ(d->lun, 0u);
  EXPECT_EQ(d->itt, 5u);
  EXPECT_EQ(d->ttt, 0xabcu);
  EXPECT_EQ(d->statsn, 0x100u);
  EXPECT_EQ(d->exp_cmdsn, 8u);
  EXPECT_EQ(d->max_cmdsn, 0x28u);
  EXPECT_EQ(d->data, Bytes("a=b"));
}

TEST(TextResponseTest, FinalAndContinueTogetherIsAnError) {
  Bhs bhs = kTextResponseBhs;
  bhs[1] = 0xc0;
  EXPECT_FALSE(DecodeTextResponse(FromGolden(bhs, Bytes("a=b"))).ok());
}

// ---- Logout Request / Response (11.14, 11.15) ----

const Bhs kLogoutRequestBhs = {
    0x46, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // I|0x06, 1|reason 1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x77, 0x00, 0x02, 0x00, 0x00,  // ITT, CID
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20,  // CmdSN, ExpStatSN
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST(LogoutRequestTest, EncodesAndDecodesGoldenBytes) {
  LogoutRequestPdu r;
  r.reason = LogoutReason::kCloseConnection;
  r.itt = 0x77;
  r.cid = 2;
  r.cmdsn = 0x10;
  r.exp_statsn = 0x20;
  EXPECT_EQ(Encode(r).bhs, kLogoutRequestBhs);

  auto d = DecodeLogoutRequest(FromGolden(kLogoutRequestBhs));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->immediate);
  EXPECT_EQ(d->reason, LogoutReason::kCloseConnection);
  EXPECT_EQ(d->itt, 0x77u);
  EXPECT_EQ(d->cid, 2);
  EXPECT_EQ(d->cmdsn, 0x10u);
  EXPECT_EQ(d->exp_statsn, 0x20u);
}

TEST(LogoutRequestTest, UnknownReasonIsAnError) {
  Bhs bhs = kLogoutRequestBhs;
  bhs[1] = 0x85;
  EXPECT_THAT(Message(DecodeLogoutRequest(FromGolden(bhs)).status()),
              HasSubstr("unknown reason code 5"));
}

const Bhs kLogoutResponseBhs = {
    0x26, 0x80, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,  // Response 2
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, 0x00,  // ITT
    0x00, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x11,  // StatSN, ExpCmdSN
    0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00,  // MaxCmdSN
    0x00, 0x02, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00,  // Time2Wait, Time2Retain
};

TEST(LogoutResponseTest, EncodesAndDecodesGoldenBytes) {
  LogoutResponse r;
  r.response = 2;
  r.itt = 0x77;
  r.statsn = 0x21;
  r.exp_cmdsn = 0x11;
  r.max_cmdsn = 0x30;
  r.time2wait = 2;
  r.time2retain = 20;
  EXPECT_EQ(Encode(r).bhs, kLogoutResponseBhs);

  auto d = DecodeLogoutResponse(FromGolden(kLogoutResponseBhs));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->response, 2);
  EXPECT_EQ(d->itt, 0x77u);
  EXPECT_EQ(d->statsn, 0x21u);
  EXPECT_EQ(d->exp_cmdsn, 0x11u);
  EXPECT_EQ(d->max_cmdsn, 0x30u);
  EXPECT_EQ(d->time2wait, 2);
  EXPECT_EQ(d->time2retain, 20);
}

// ---- NOP-Out / NOP-In (11.18, 11.19) ----

const Bhs kNopOutBhs = {
    0x40, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,  // I|0x00, DSL 5
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN
    0x00, 0x00, 0x10, 0x00, 0xff, 0xff, 0xff, 0xff,  // ITT, TTT
    0x00, 0x00, 0x00, 0x33, 0x00, 0x00, 0x00, 0x44,  // CmdSN, ExpStatSN
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST(NopOutTest, EncodesAndDecodesGoldenBytes) {
  NopOut r;
  r.itt = 0x1000;
  r.cmdsn = 0x33;
  r.exp_statsn = 0x44;
  r.data = {1, 2, 3, 4, 5};
  EXPECT_EQ(Encode(r).bhs, kNopOutBhs);

  auto d = DecodeNopOut(FromGolden(kNopOutBhs, {1, 2, 3, 4, 5}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->immediate);
  EXPECT_EQ(d->lun, 0u);
  EXPECT_EQ(d->itt, 0x1000u);
  EXPECT_EQ(d->ttt, kReservedTag);
  EXPECT_EQ(d->cmdsn, 0x33u);
  EXPECT_EQ(d->exp_statsn, 0x44u);
  EXPECT_EQ(d->data, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
}

const Bhs kNopInBhs = {
    0x20, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x99,  // ITT, TTT
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,  // StatSN, ExpCmdSN
    0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,  // MaxCmdSN
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST(NopInTest, EncodesAndDecodesGoldenBytes) {
  NopIn r;
  r.lun = 0x0002000000000000;
  r.ttt = 0x99;
  r.statsn = 1;
  r.exp_cmdsn = 2;
  r.max_cmdsn = 3;
  EXPECT_EQ(Encode(r).bhs, kNopInBhs);

  auto d = DecodeNopIn(FromGolden(kNopInBhs));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->lun, 0x0002000000000000u);
  EXPECT_EQ(d->itt, kReservedTag);
  EXPECT_EQ(d->ttt, 0x99u);
  EXPECT_EQ(d->statsn, 1u);
  EXPECT_EQ(d->exp_cmdsn, 2u);
  EXPECT_EQ(d->max_cmdsn, 3u);
}

// ---- SCSI Command / Response (11.3, 11.4) ----

// The READ (10) command of RFC 3720 appendix B.4.
const Bhs kScsiCommandBhs = {
    0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // F|R, untagged
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN
    0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,  // ITT, EDTL
    0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,  // CmdSN, ExpStatSN
    0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // CDB
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST(ScsiCommandTest, EncodesAndDecodesGoldenBytes) {
  ScsiCommand r;
  r.read = true;
  r.task_attr = 0;
  r.itt = 0x14000000;
  r.expected_data_length = 0x400;
  r.cmdsn = 0x14;
  r.exp_statsn = 0x18;
  r.cdb = {0x28, 0, 0, 0, 0, 0, 0, 0, 0x02};
  EXPECT_EQ(Encode(r).bhs, kScsiCommandBhs);

  auto d = DecodeScsiCommand(FromGolden(kScsiCommandBhs));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->immediate);
  EXPECT_TRUE(d->final);
  EXPECT_TRUE(d->read);
  EXPECT_FALSE(d->write);
  EXPECT_EQ(d->task_attr, 0);
  EXPECT_EQ(d->lun, 0u);
  EXPECT_EQ(d->itt, 0x14000000u);
  EXPECT_EQ(d->expected_data_length, 0x400u);
  EXPECT_EQ(d->cmdsn, 0x14u);
  EXPECT_EQ(d->exp_statsn, 0x18u);
  EXPECT_EQ(d->cdb, r.cdb);
}

TEST(ScsiCommandTest, WriteWithImmediateDataAndSimpleAttribute) {
  ScsiCommand r;
  r.immediate = true;
  r.write = true;
  r.lun = 0x0001000000000000;
  r.data = {9, 9};
  const Pdu pdu = Encode(r);
  EXPECT_EQ(pdu.bhs[0], 0x41);
  EXPECT_EQ(pdu.bhs[1], 0xa1);  // F|W|simple
  EXPECT_EQ(pdu.bhs[7], 2);
  EXPECT_EQ(pdu.bhs[9], 0x01);
}

const Bhs kScsiResponseBhs = {
    0x21, 0x82, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04,  // U, CHECK CONDITION
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ITT
    0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x15,  // StatSN, ExpCmdSN
    0x00, 0x00, 0x00, 0x34, 0x00, 0x00, 0x00, 0x00,  // MaxCmdSN, ExpDataSN
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x02, 0x00,  // residuals
};

TEST(ScsiResponseTest, EncodesAndDecodesGoldenBytes) {
  ScsiResponse r;
  r.flags = 0x02;
  r.status = 0x02;
  r.itt = 0x14000000;
  r.statsn = 0x18;
  r.exp_cmdsn = 0x15;
  r.max_cmdsn = 0x34;
  r.bidi_residual = 7;
  r.residual = 0x200;
  r.data = {0x00, 0x02, 0x70, 0x00};
  EXPECT_EQ(Encode(r).bhs, kScsiResponseBhs);

  auto d = DecodeScsiResponse(FromGolden(kScsiResponseBhs, r.data));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->flags, 0x02);
  EXPECT_EQ(d->response, 0);
  EXPECT_EQ(d->status, 0x02);
  EXPECT_EQ(d->itt, 0x14000000u);
  EXPECT_EQ(d->statsn, 0x18u);
  EXPECT_EQ(d->exp_cmdsn, 0x15u);
  EXPECT_EQ(d->max_cmdsn, 0x34u);
  EXPECT_EQ(d->exp_datasn, 0u);
  EXPECT_EQ(d->bidi_residual, 7u);
  EXPECT_EQ(d->residual, 0x200u);
  EXPECT_EQ(d->data, r.data);
}

TEST(ScsiResponseTest, OverflowAndUnderflowTogetherIsAnError) {
  Bhs bhs = kScsiResponseBhs;
  bhs[1] = 0x86;
  bhs[7] = 0;
  EXPECT_THAT(Message(DecodeScsiResponse(FromGolden(bhs)).status()),
              HasSubstr("both the overflow and underflow"));
  bhs[1] = 0x98;
  EXPECT_THAT(Message(DecodeScsiResponse(FromGolden(bhs)).status()),
              HasSubstr("bidirectional overflow and underflow"));
}

// ---- Asynchronous Message (11.9) ----

const Bhs kAsyncMessageBhs = {
    0x32, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // LUN
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,  // 0xffffffff
    0x00, 0x00, 0x00, 0x55, 0x00, 0x00, 0x00, 0x66,  // StatSN, ExpCmdSN
    0x00, 0x00, 0x00, 0x77, 0x01, 0x00, 0x01, 0x02,  // MaxCmdSN, event, P1
    0x00, 0x05, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00,  // P2, P3
};

TEST(AsyncMessageTest, EncodesAndDecodesGoldenBytes) {
  AsyncMessage r;
  r.statsn = 0x55;
  r.exp_cmdsn = 0x66;
  r.max_cmdsn = 0x77;
  r.async_event = static_cast<uint8_t>(AsyncEvent::kLogoutRequest);
  r.parameter1 = 0x0102;
  r.parameter2 = 5;
  r.parameter3 = 20;
  EXPECT_EQ(Encode(r).bhs, kAsyncMessageBhs);

  auto d = DecodeAsyncMessage(FromGolden(kAsyncMessageBhs));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->statsn, 0x55u);
  EXPECT_EQ(d->exp_cmdsn, 0x66u);
  EXPECT_EQ(d->max_cmdsn, 0x77u);
  EXPECT_EQ(d->async_event, 1);
  EXPECT_EQ(d->async_vcode, 0);
  EXPECT_EQ(d->parameter1, 0x0102);
  EXPECT_EQ(d->parameter2, 5);
  EXPECT_EQ(d->parameter3, 20);
}

// ---- Reject (11.17) ----

const Bhs kRejectBhs = {
    0x3f, 0x80, 0x09, 0x00, 0x00, 0x00, 0x00, 0x30,  // reason 9, DSL 48
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,  // 0xffffffff
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x11,  // StatSN, ExpCmdSN
    0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03,  // MaxCmdSN, DataSN
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

TEST(RejectTest, EncodesAndDecodesGoldenBytes) {
  Reject r;
  r.reason = 0x09;
  r.statsn = 0x10;
  r.exp_cmdsn = 0x11;
  r.max_cmdsn = 0x12;
  r.datasn = 3;
  r.rejected_bhs = kNopOutBhs;
  const Pdu pdu = Encode(r);
  EXPECT_EQ(pdu.bhs, kRejectBhs);
  EXPECT_EQ(pdu.data,
            std::vector<uint8_t>(kNopOutBhs.begin(), kNopOutBhs.end()));

  auto d = DecodeReject(FromGolden(kRejectBhs, pdu.data));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->reason, 0x09);
  EXPECT_EQ(d->statsn, 0x10u);
  EXPECT_EQ(d->exp_cmdsn, 0x11u);
  EXPECT_EQ(d->max_cmdsn, 0x12u);
  EXPECT_EQ(d->datasn, 3u);
  ASSERT_TRUE(d->rejected_bhs.has_value());
  EXPECT_EQ(*d->rejected_bhs, kNopOutBhs);
}

TEST(RejectTest, ShortDataSegmentCarriesNoHeader) {
  Bhs bhs = kRejectBhs;
  bhs[7] = 4;
  auto d = DecodeReject(FromGolden(bhs, {1, 2, 3, 4}));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_FALSE(d->rejected_bhs.has_value());
  EXPECT_EQ(d->reason, 0x09);
}

TEST(RejectTest, ReasonNames) {
  EXPECT_EQ(RejectReasonName(0x04), "protocol error");
  EXPECT_EQ(RejectReasonName(0x09), "invalid PDU field");
  EXPECT_EQ(RejectReasonName(0x42), "reason 0x42");
}

// ---- Names and cross-type checks ----

TEST(OpcodeNameTest, KnownAndUnknown) {
  EXPECT_EQ(OpcodeName(0x23), "Login Response");
  EXPECT_EQ(OpcodeName(0x3f), "Reject");
  EXPECT_EQ(OpcodeName(0x1b), "opcode 0x1b");
}

TEST(DecodeTest, EveryDecoderRejectsEveryOtherOpcode) {
  const std::vector<Pdu> pdus = {
      FromGolden(kLoginRequestBhs, {'a', '=', 'b', 0}),
      FromGolden(kLoginResponseBhs),
      FromGolden(kTextRequestBhs, Bytes(std::string("SendTargets=All\0", 16))),
      FromGolden(kTextResponseBhs, Bytes("a=b")),
      FromGolden(kLogoutRequestBhs),
      FromGolden(kLogoutResponseBhs),
      FromGolden(kNopOutBhs, {1, 2, 3, 4, 5}),
      FromGolden(kNopInBhs),
      FromGolden(kScsiCommandBhs),
      FromGolden(kScsiResponseBhs, {0x00, 0x02, 0x70, 0x00}),
      FromGolden(kAsyncMessageBhs),
      FromGolden(kRejectBhs, std::vector<uint8_t>(48, 0)),
  };
  // Decoder i accepts exactly pdus[i].
  const std::vector<absl::Status (*)(const Pdu&)> decoders = {
      [](const Pdu& p) { return DecodeLoginRequest(p).status(); },
      [](const Pdu& p) { return DecodeLoginResponse(p).status(); },
      [](const Pdu& p) { return DecodeTextRequest(p).status(); },
      [](const Pdu& p) { return DecodeTextResponse(p).status(); },
      [](const Pdu& p) { return DecodeLogoutRequest(p).status(); },
      [](const Pdu& p) { return DecodeLogoutResponse(p).status(); },
      [](const Pdu& p) { return DecodeNopOut(p).status(); },
      [](const Pdu& p) { return DecodeNopIn(p).status(); },
      [](const Pdu& p) { return DecodeScsiCommand(p).status(); },
      [](const Pdu& p) { return DecodeScsiResponse(p).status(); },
      [](const Pdu& p) { return DecodeAsyncMessage(p).status(); },
      [](const Pdu& p) { return DecodeReject(p).status(); },
  };
  ASSERT_EQ(pdus.size(), decoders.size());
  for (size_t d = 0; d < decoders.size(); ++d) {
    for (size_t p = 0; p < pdus.size(); ++p) {
      const absl::Status status = decoders[d](pdus[p]);
      if (d == p) {
        EXPECT_TRUE(status.ok()) << "decoder " << d << ": " << status;
      } else {
        EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
            << "decoder " << d << " on PDU " << p;
        EXPECT_THAT(Message(status), HasSubstr("expected "));
      }
    }
  }
}

TEST(PduTest, UpdateLengthsRoundsAhsToWords) {
  Pdu pdu;
  pdu.ahs.resize(6);
  pdu.data.resize(0x012345);
  pdu.UpdateLengths();
  EXPECT_EQ(pdu.bhs[4], 2);
  EXPECT_EQ(pdu.bhs[5], 0x01);
  EXPECT_EQ(pdu.bhs[6], 0x23);
  EXPECT_EQ(pdu.bhs[7], 0x45);
  EXPECT_EQ(pdu.declared_ahs_length(), 8u);
  EXPECT_EQ(pdu.declared_data_length(), 0x012345u);
}

}  // namespace
}  // namespace kiscsi
