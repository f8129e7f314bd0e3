# Policy data for the pack's own tests. The tests run with these purposes
# and settings (`with data.custodia.purposes as fixture.purposes …`), not
# with data.json, so that they test the rules: HR and compliance may change
# the shipped purposes through PUT /api/v1/policy-data without breaking them.
# The shipped data.json is checked by Go tests (governance, TestShippedPolicyData).
package custodia.fixture

purposes := {
	"compliance-training": {
		"title": "Mandatory training (test)",
		"legal_basis": "legal_obligation",
		"retention_days": 4000,
		"readers": ["hr", "compliance", "learner"],
		"masks": {},
		"minimise": [],
		"signed_statements": "keep_whole",
		"match": {"activity_prefixes": ["https://lms.acme.example/compliance/"]},
	},
	"skills-development": {
		"title": "Skills (test)",
		"legal_basis": "consent",
		"retention_days": 500,
		"readers": ["hr", "learner"],
		"masks": {},
		"minimise": [],
		"signed_statements": "keep_whole",
		"match": {"activity_prefixes": ["https://lms.acme.example/skills/", "https://mentoring.acme.example/"]},
	},
	"clickstream-analytics": {
		"title": "Clicks (test)",
		"legal_basis": "consent",
		"retention_days": 30,
		"readers": ["hr", "compliance"],
		"masks": {"hr": ["result.response"]},
		"minimise": ["context.extensions"],
		"signed_statements": "reject",
		"match": {"verbs": [
			"http://id.tincanapi.com/verb/viewed",
			"https://w3id.org/xapi/video/verbs/played",
			"https://w3id.org/xapi/video/verbs/paused",
		]},
	},
	"learning-records": {
		"title": "Everything else (test)",
		"legal_basis": "legitimate_interest",
		"retention_days": 2000,
		"readers": ["hr", "compliance", "learner", "client"],
		"masks": {},
		"minimise": [],
		"signed_statements": "keep_whole",
		"match": {},
	},
}

settings := {"default_purpose": "learning-records", "admin_bypass": true}
