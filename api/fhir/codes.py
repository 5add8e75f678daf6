"""The code systems and value maps the facade speaks, in one place (the README and the
CapabilityStatement name them too)."""
from __future__ import annotations

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"  # R4; the R4B models used to build and check resources are wire-compatible for ours

ANALYSIS_TYPE = "https://mindq.dev/analysis-type"  # Task.code: which analysis to run
TASK_INPUT = "https://mindq.dev/task-input"  # Task.input.type: text | previous-text | horizon | <option>
TASK_OUTPUT = "https://mindq.dev/task-output"  # Task.output.type: result | forecast | mindq-result
JOB_STAGE = "https://mindq.dev/job-stage"  # Task.businessStatus: the job's stage
JOB_ID = "https://mindq.dev/job"  # Task.identifier: the job id (/v1/jobs/<id>)
ERROR_CODE = "https://mindq.dev/error-code"  # OperationOutcome.issue.details: mindq's stable code
LABEL = "https://mindq.dev/label"  # Observation.valueCodeableConcept: the analysis' label
RISK_LEVEL = "https://mindq.dev/risk-level"  # RiskAssessment qualitativeRisk: low | medium | high
FORECAST_BOUND = "https://mindq.dev/forecast-bound"  # Observation.component: lower | upper
PROGRESS_EXT = "https://mindq.dev/fhir/StructureDefinition/progress"  # Task.extension: 0-100
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
HL7_RISK = "http://terminology.hl7.org/CodeSystem/risk-probability"

# the instruments a forecast or deterioration Task may send as contained Observations
LOINC_INSTRUMENTS = {"44261-6": "PHQ-9", "69737-5": "GAD-7"}
INSTRUMENT_LOINC = {v: k for k, v in LOINC_INSTRUMENTS.items()}

# Task.status and Task.intent are required bindings (hl7.org/fhir/R4/task.html): a posted Task
# must use these codes; fhir.resources checks only that they are codes
TASK_STATUSES = ("draft", "requested", "received", "accepted", "rejected", "ready", "cancelled", "in-progress",
                 "on-hold", "failed", "completed", "entered-in-error")
TASK_INTENTS = ("unknown", "proposal", "plan", "order", "original-order", "reflex-order", "filler-order",
                "instance-order", "option")
# job state -> Task.status (the job lifecycle is the contract; FHIR's names for it)
TASK_STATUS = {"queued": "requested", "running": "in-progress", "succeeded": "completed",
               "failed": "failed", "cancelled": "cancelled"}
# Task.priority -> job priority: routine work may wait behind interactive jobs
JOB_PRIORITY = {"routine": "batch", "urgent": "interactive", "asap": "interactive", "stat": "interactive"}
TASK_PRIORITY = {"batch": "routine", "interactive": "urgent"}
# risk levels on HL7's risk-probability codes, so an EMR can read them without knowing ours
HL7_RISK_CODES = {"low": "low", "medium": "moderate", "high": "high"}
