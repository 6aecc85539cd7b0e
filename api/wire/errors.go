package wire

import (
	"fmt"
	"net/http"
)

// Code is a stable API error code. Codes are part of the API's contract:
// add new ones freely, never rename or remove one.
type Code string

// Error codes.
const (
	// CodeUnauthenticated: no bearer token, or not a valid one (401).
	CodeUnauthenticated Code = "unauthenticated"
	// CodeForbidden: the token's role may not use the route (403).
	CodeForbidden Code = "forbidden"
	// CodeNotAssigned: the packet is not assigned to the reviewer (403),
	// whether or not it exists.
	CodeNotAssigned Code = "not_assigned"
	// CodeNotFound: no such route (404).
	CodeNotFound Code = "not_found"
	// CodeMethodNotAllowed: the route exists, not with this method (405).
	CodeMethodNotAllowed Code = "method_not_allowed"
	// CodeUnknownSubmission: no submission has this id (404).
	CodeUnknownSubmission Code = "unknown_submission"
	// CodeUnknownAnonCode: no application has this anonymous code (404).
	CodeUnknownAnonCode Code = "unknown_anon_code"
	// CodeUnknownAssignment: no such assignment (404).
	CodeUnknownAssignment Code = "unknown_assignment"
	// CodePacketUnavailable: the packet cannot be handed out now — not
	// accepted, withdrawn, or being replaced (404).
	CodePacketUnavailable Code = "packet_unavailable"
	// CodeInvalidParameter: a path or query parameter is invalid (400).
	CodeInvalidParameter Code = "invalid_parameter"
	// CodeMalformedJSON: the body is not one JSON value of the route's
	// shape — syntax, unknown, repeated or case-mismatched members,
	// trailing data (400).
	CodeMalformedJSON Code = "malformed_json"
	// CodeUnsupportedMediaType: the body is not application/json (415).
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	// CodeBodyTooLarge: the body is over the route's limit (413).
	CodeBodyTooLarge Code = "body_too_large"
	// CodeInvalidSubmission: not a blindpack/submission@1 document; the
	// detail names the finding code (400).
	CodeInvalidSubmission Code = "invalid_submission"
	// CodeSubmissionConflict: another document, or another applicant or
	// campaign, already has this submission id (409).
	CodeSubmissionConflict Code = "submission_conflict"
	// CodeInvalidOverride: an override names no material of the
	// submission, or no page (400).
	CodeInvalidOverride Code = "invalid_override"
	// CodeInvalidReason: a reason is missing, longer than 500 characters,
	// or has control characters or line breaks (400).
	CodeInvalidReason Code = "invalid_reason"
	// CodeInvalidBatch: not a valid blindpack/batch@1 document (400).
	CodeInvalidBatch Code = "invalid_batch"
	// CodeInvalidFile: the uploaded file (or the uploads object named)
	// cannot be read; the detail names the finding code (400).
	CodeInvalidFile Code = "invalid_file"
	// CodeInternal: the server failed; its log has the request id (500).
	CodeInternal Code = "internal"
	// CodeNotHeld: the submission is not held for an administrator, so
	// there is nothing to release or return (409).
	CodeNotHeld Code = "not_held"
)

type entry struct {
	status int
	zh, en string
}

var catalogue = map[Code]entry{
	CodeUnauthenticated:      {http.StatusUnauthorized, "需要有效的访问令牌（Authorization: Bearer …）。", "A valid bearer token is required (Authorization: Bearer …)."},
	CodeForbidden:            {http.StatusForbidden, "此令牌的角色无权使用该接口。", "This token's role may not use this route."},
	CodeNotAssigned:          {http.StatusForbidden, "该评审材料未分配给您。", "This packet is not assigned to you."},
	CodeNotFound:             {http.StatusNotFound, "没有这个接口。", "No such route."},
	CodeMethodNotAllowed:     {http.StatusMethodNotAllowed, "该接口不支持此请求方法。", "This route does not take this method."},
	CodeUnknownSubmission:    {http.StatusNotFound, "没有这份申报。", "No such submission."},
	CodeUnknownAnonCode:      {http.StatusNotFound, "没有申请使用这个匿名编号。", "No application has this anonymous code."},
	CodeUnknownAssignment:    {http.StatusNotFound, "没有这项分配。", "No such assignment."},
	CodePacketUnavailable:    {http.StatusNotFound, "评审材料暂不可用（未通过、已撤下或正在更新），请稍后再试。", "The packet is not available (not accepted, withdrawn, or being replaced); try again later."},
	CodeInvalidParameter:     {http.StatusBadRequest, "请求参数无效。", "A parameter of the request is invalid."},
	CodeMalformedJSON:        {http.StatusBadRequest, "请求内容不是该接口所需格式的 JSON。", "The request body is not JSON of the shape this route takes."},
	CodeUnsupportedMediaType: {http.StatusUnsupportedMediaType, "请求内容须为 application/json（UTF-8）。", "The request body must be application/json (UTF-8)."},
	CodeBodyTooLarge:         {http.StatusRequestEntityTooLarge, "请求内容过大。", "The request body is too large."},
	CodeInvalidSubmission:    {http.StatusBadRequest, "不是有效的 blindpack/submission@1 申报数据。", "Not a valid blindpack/submission@1 document."},
	CodeSubmissionConflict:   {http.StatusConflict, "该申报编号已用于另一份申报数据（或另一位申请人、另一批次）。", "This submission_id already names another document, applicant or campaign."},
	CodeInvalidOverride:      {http.StatusBadRequest, "人工认可的页面无效：须为本申报的材料（从0起）和页码（从1起）。", "An override must name a material of this submission (from 0) and a page (from 1)."},
	CodeInvalidReason:        {http.StatusBadRequest, "理由无效：须填写，单行，不超过500字，不含控制字符。", "The reason must be given, on one line, at most 500 characters, without control characters."},
	CodeInvalidBatch:         {http.StatusBadRequest, "不是有效的 blindpack/batch@1 结果数据。", "Not a valid blindpack/batch@1 document."},
	CodeInvalidFile:          {http.StatusBadRequest, "文件无法读取或不存在。", "The file cannot be read, or does not exist."},
	CodeInternal:             {http.StatusInternalServerError, "服务器内部错误，请凭请求编号联系管理员。", "Internal error; quote the request id to an administrator."},
	CodeNotHeld:              {http.StatusConflict, "这份申报没有被暂扣待核查，无需放行或退回。", "The submission is not held: there is nothing to release or return."},
}

// Codes lists every error code.
func Codes() []Code {
	out := make([]Code, 0, len(catalogue))
	for c := range catalogue {
		out = append(out, c)
	}
	return out
}

// Status is the HTTP status a code is answered with (500 for a code this
// version does not know).
func (c Code) Status() int {
	if e, ok := catalogue[c]; ok {
		return e.status
	}
	return http.StatusInternalServerError
}

// Messages are the code's sentences in Chinese and English.
func (c Code) Messages() (zh, en string) {
	e := catalogue[c]
	return e.zh, e.en
}

// Error is the body of every error answer of the API, whatever the route:
//
//	{"code": "submission_conflict", "message_zh": "…", "message_en": "…",
//	 "detail": "…", "request_id": "01J…"}
//
// The request id is also in the X-Request-Id header and in the server's
// log line of the request.
type Error struct {
	Code      Code   `json:"code"`
	MessageZH string `json:"message_zh"`
	MessageEN string `json:"message_en"`
	// Detail says more, in English, for the person fixing the call: which
	// parameter, which finding code. It never quotes a name or employer.
	Detail    string `json:"detail,omitempty"`
	RequestID string `json:"request_id"`
}

// NewError is the error body of code with a detail.
func NewError(code Code, detail, requestID string) Error {
	zh, en := code.Messages()
	return Error{Code: code, MessageZH: zh, MessageEN: en, Detail: detail, RequestID: requestID}
}

func (e Error) Error() string {
	s := fmt.Sprintf("%s: %s", e.Code, e.MessageEN)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}
