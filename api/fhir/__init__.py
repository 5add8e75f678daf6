"""A FHIR R4 facade over the job API, for EMRs: a Task is a job.

``codes`` names the systems and value maps, ``task_in`` turns a posted Task into a job request,
``task_out`` turns a job and its result into a Task with contained RiskAssessment or Observation
resources, ``outcome`` writes errors as OperationOutcome, ``capability`` the CapabilityStatement;
only ``views`` knows Flask. Resources are built and checked with fhir.resources' R4B models.
"""
