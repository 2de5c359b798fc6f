"""The patient's health records, read from the practice's clinical tables, and as FHIR R4."""
