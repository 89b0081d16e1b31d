package webhook

import "encoding/json"

// Conversation is the data of a post_call_transcription event: the same
// shape as ElevenLabs' GET conversation response. Nested parts that change
// often and that few consumers read (charging, feature usage, LLM usage,
// the agent configuration override) stay raw JSON.
type Conversation struct {
	AgentID             string                `json:"agent_id"`
	AgentName           string                `json:"agent_name,omitempty"`
	ConversationID      string                `json:"conversation_id"`
	ConversationProduct string                `json:"conversation_product,omitempty"`
	Status              string                `json:"status"`
	UserID              string                `json:"user_id,omitempty"`
	BranchID            string                `json:"branch_id,omitempty"`
	VersionID           string                `json:"version_id,omitempty"`
	Environment         string                `json:"environment,omitempty"`
	Transcript          []TranscriptTurn      `json:"transcript"`
	Metadata            ConversationMetadata  `json:"metadata"`
	Analysis            *Analysis             `json:"analysis,omitempty"`
	VisitedAgents       json.RawMessage       `json:"visited_agents,omitempty"`
	InitiationData      *InitiationClientData `json:"conversation_initiation_client_data,omitempty"`
	HasAudio            bool                  `json:"has_audio"`
	HasUserAudio        bool                  `json:"has_user_audio"`
	HasResponseAudio    bool                  `json:"has_response_audio"`
	HasAuxiliaryAudio   bool                  `json:"has_auxiliary_audio,omitempty"`
	TagIDs              []string              `json:"tag_ids,omitempty"`
	OTLPTraces          json.RawMessage       `json:"otlp_traces,omitempty"`
}

// TranscriptTurn is one message of the conversation, by the agent or the
// user, with the tools the agent called in that turn.
type TranscriptTurn struct {
	Role                    string          `json:"role"`
	Message                 string          `json:"message,omitempty"`
	TimeInCallSecs          float64         `json:"time_in_call_secs"`
	ToolCalls               []ToolCall      `json:"tool_calls,omitempty"`
	ToolResults             []ToolResult    `json:"tool_results,omitempty"`
	ID                      string          `json:"id,omitempty"`
	Interrupted             *bool           `json:"interrupted,omitempty"`
	OriginalMessage         string          `json:"original_message,omitempty"`
	AgentMetadata           json.RawMessage `json:"agent_metadata,omitempty"`
	MultivoiceMessage       json.RawMessage `json:"multivoice_message,omitempty"`
	Feedback                json.RawMessage `json:"feedback,omitempty"`
	LLMOverride             string          `json:"llm_override,omitempty"`
	ProducingLLM            string          `json:"producing_llm,omitempty"`
	ConversationTurnMetrics json.RawMessage `json:"conversation_turn_metrics,omitempty"`
	RAGRetrievalInfo        json.RawMessage `json:"rag_retrieval_info,omitempty"`
	LLMUsage                json.RawMessage `json:"llm_usage,omitempty"`
	IgnoredAsBackchannel    *bool           `json:"ignored_as_backchannel,omitempty"`
	PlatformEvent           json.RawMessage `json:"platform_event,omitempty"`
	Reasoning               json.RawMessage `json:"reasoning,omitempty"`
	SourceMedium            string          `json:"source_medium,omitempty"`
	SourceEventID           *float64        `json:"source_event_id,omitempty"`
	UsedStaticKBDocumentIDs []string        `json:"used_static_kb_document_ids,omitempty"`
	UserIdentifier          string          `json:"user_identifier,omitempty"`
	TriggeredGuardrails     json.RawMessage `json:"triggered_guardrails,omitempty"`
	FileInput               json.RawMessage `json:"file_input,omitempty"`
	FileInputs              json.RawMessage `json:"file_inputs,omitempty"`
	ContextualUpdateInfo    json.RawMessage `json:"contextual_update_info,omitempty"`
	Reasoned                *bool           `json:"reasoned,omitempty"`
}

// ToolCall is a tool the agent called; ParamsAsJSON is the arguments as
// the JSON text ElevenLabs sends.
type ToolCall struct {
	Type              string          `json:"type,omitempty"`
	RequestID         string          `json:"request_id"`
	ToolName          string          `json:"tool_name"`
	ParamsAsJSON      string          `json:"params_as_json"`
	ToolHasBeenCalled bool            `json:"tool_has_been_called"`
	ToolDetails       json.RawMessage `json:"tool_details,omitempty"`
}

// ToolResult is what a tool call returned. It merges the result shapes of
// system, webhook and client tools; fields a shape lacks stay empty.
type ToolResult struct {
	Type                    string          `json:"type,omitempty"`
	RequestID               string          `json:"request_id"`
	ToolName                string          `json:"tool_name"`
	ResultValue             string          `json:"result_value"`
	IsError                 bool            `json:"is_error"`
	IsBlocked               *bool           `json:"is_blocked,omitempty"`
	ToolHasBeenCalled       bool            `json:"tool_has_been_called"`
	ToolLatencySecs         *float64        `json:"tool_latency_secs,omitempty"`
	ErrorType               string          `json:"error_type,omitempty"`
	RawErrorMessage         string          `json:"raw_error_message,omitempty"`
	DynamicVariableUpdates  json.RawMessage `json:"dynamic_variable_updates,omitempty"`
	IntegrationID           string          `json:"integration_id,omitempty"`
	CredentialID            string          `json:"credential_id,omitempty"`
	IntegrationConnectionID string          `json:"integration_connection_id,omitempty"`
	Result                  json.RawMessage `json:"result,omitempty"`
}

// ConversationMetadata says when the call ran, how long, what it cost, how
// it ended and, for phone calls, between which numbers.
type ConversationMetadata struct {
	StartTimeUnixSecs    int64              `json:"start_time_unix_secs"`
	AcceptedTimeUnixSecs *int64             `json:"accepted_time_unix_secs,omitempty"`
	CallDurationSecs     float64            `json:"call_duration_secs"`
	QueueWaitSecs        *float64           `json:"queue_wait_secs,omitempty"`
	Cost                 *float64           `json:"cost,omitempty"`
	CostFiat             *float64           `json:"cost_fiat,omitempty"`
	TerminationReason    string             `json:"termination_reason,omitempty"`
	Error                *ConversationError `json:"error,omitempty"`
	Warnings             []string           `json:"warnings,omitempty"`
	MainLanguage         string             `json:"main_language,omitempty"`
	PhoneCall            *PhoneCall         `json:"phone_call,omitempty"`
	DeletionSettings     *DeletionSettings  `json:"deletion_settings,omitempty"`
	Feedback             *Feedback          `json:"feedback,omitempty"`
	AuthorizationMethod  string             `json:"authorization_method,omitempty"`
	TextOnly             *bool              `json:"text_only,omitempty"`
	InitiatorID          string             `json:"initiator_id,omitempty"`
	Timezone             string             `json:"timezone,omitempty"`
	// InitiationSource is where the conversation started (sip_trunk,
	// twilio, react_sdk, …) and InitiationSourceVersion that client's version.
	InitiationSource        string          `json:"conversation_initiation_source,omitempty"`
	InitiationSourceVersion string          `json:"conversation_initiation_source_version,omitempty"`
	Charging                json.RawMessage `json:"charging,omitempty"`
	BatchCall               json.RawMessage `json:"batch_call,omitempty"`
	RAGUsage                json.RawMessage `json:"rag_usage,omitempty"`
	FeaturesUsage           json.RawMessage `json:"features_usage,omitempty"`
	ElevenAssistant         json.RawMessage `json:"eleven_assistant,omitempty"`
	AsyncMetadata           json.RawMessage `json:"async_metadata,omitempty"`
	WhatsApp                json.RawMessage `json:"whatsapp,omitempty"`
	SMS                     json.RawMessage `json:"sms,omitempty"`
	AgentCreatedFrom        string          `json:"agent_created_from,omitempty"`
	AgentLastUpdatedFrom    string          `json:"agent_last_updated_from,omitempty"`
	VoiceRewards            json.RawMessage `json:"voice_rewards,omitempty"`
}

// ConversationError is why a conversation failed, when it did.
type ConversationError struct {
	Code   int    `json:"code"`
	Reason string `json:"reason,omitempty"`
}

// PhoneCall is the telephony side of a call. It merges the Twilio, SIP
// trunk and Exotel shapes; Type says which one it is where ElevenLabs sends it.
type PhoneCall struct {
	Type                      string            `json:"type,omitempty"`
	Direction                 string            `json:"direction"`
	PhoneNumberID             string            `json:"phone_number_id"`
	AgentNumber               string            `json:"agent_number"`
	ExternalNumber            string            `json:"external_number"`
	CallResult                string            `json:"call_result,omitempty"`
	StreamSID                 string            `json:"stream_sid,omitempty"`
	CallSID                   string            `json:"call_sid,omitempty"`
	CallID                    string            `json:"call_id,omitempty"`
	SIPHeaderDynamicVariables map[string]string `json:"sip_header_dynamic_variables,omitempty"`
}

// DeletionSettings says when ElevenLabs deletes the conversation's data.
type DeletionSettings struct {
	DeletionTimeUnixSecs            *int64 `json:"deletion_time_unix_secs,omitempty"`
	DeletedLogsAtTimeUnixSecs       *int64 `json:"deleted_logs_at_time_unix_secs,omitempty"`
	DeletedAudioAtTimeUnixSecs      *int64 `json:"deleted_audio_at_time_unix_secs,omitempty"`
	DeletedTranscriptAtTimeUnixSecs *int64 `json:"deleted_transcript_at_time_unix_secs,omitempty"`
	DeleteTranscriptAndPII          bool   `json:"delete_transcript_and_pii"`
	DeleteAudio                     bool   `json:"delete_audio"`
}

// Feedback is the caller's rating of the conversation.
type Feedback struct {
	Type         string   `json:"type,omitempty"`
	OverallScore string   `json:"overall_score,omitempty"`
	Likes        int      `json:"likes"`
	Dislikes     int      `json:"dislikes"`
	Rating       *float64 `json:"rating,omitempty"`
	Comment      string   `json:"comment,omitempty"`
}

// Analysis is ElevenLabs' post-call analysis: the agent's evaluation
// criteria, the data it was asked to collect, and a summary.
type Analysis struct {
	EvaluationCriteriaResults     map[string]EvaluationResult     `json:"evaluation_criteria_results,omitempty"`
	DataCollectionResults         map[string]DataCollectionResult `json:"data_collection_results,omitempty"`
	EvaluationCriteriaResultsList []EvaluationResult              `json:"evaluation_criteria_results_list,omitempty"`
	DataCollectionResultsList     []DataCollectionResult          `json:"data_collection_results_list,omitempty"`
	// CallSuccessful is "success", "failure" or "unknown".
	CallSuccessful    string          `json:"call_successful"`
	CallSuccessScore  *float64        `json:"call_success_score,omitempty"`
	TranscriptSummary string          `json:"transcript_summary"`
	CallSummaryTitle  string          `json:"call_summary_title,omitempty"`
	Scoped            json.RawMessage `json:"scoped,omitempty"`
}

// EvaluationResult is one evaluation criterion's verdict.
type EvaluationResult struct {
	CriteriaID  string   `json:"criteria_id"`
	Result      string   `json:"result"`
	Rationale   string   `json:"rationale"`
	ScoringMode string   `json:"scoring_mode,omitempty"`
	Score       *float64 `json:"score,omitempty"`
	MaxScore    *float64 `json:"max_score,omitempty"`
}

// DataCollectionResult is one piece of data the agent extracted; Value is
// whatever JSON type its schema asked for.
type DataCollectionResult struct {
	DataCollectionID string          `json:"data_collection_id"`
	Name             string          `json:"name,omitempty"`
	Value            json.RawMessage `json:"value,omitempty"`
	JSONSchema       json.RawMessage `json:"json_schema,omitempty"`
	Rationale        string          `json:"rationale"`
}

// InitiationClientData is what the client sent when the conversation
// started: dynamic variables, the user, overrides of the agent's
// configuration (kept raw: it mirrors the whole agent configuration).
type InitiationClientData struct {
	ConversationConfigOverride json.RawMessage `json:"conversation_config_override,omitempty"`
	CustomLLMExtraBody         json.RawMessage `json:"custom_llm_extra_body,omitempty"`
	UserID                     string          `json:"user_id,omitempty"`
	SourceInfo                 json.RawMessage `json:"source_info,omitempty"`
	BranchID                   string          `json:"branch_id,omitempty"`
	Environment                string          `json:"environment,omitempty"`
	StartingWorkflowNodeID     string          `json:"starting_workflow_node_id,omitempty"`
	ProcedureIDs               []string        `json:"procedure_ids,omitempty"`
	DynamicVariables           map[string]any  `json:"dynamic_variables,omitempty"`
}
