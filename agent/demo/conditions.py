"""The invented clinic's medical catalogue for the demo records: long-term conditions with the
medicines that treat them and the labs that follow them, short illnesses, allergies, and lab
tests with their reference ranges. The codes are real (RxNorm ingredients, SNOMED CT, ICD-10-CM,
LOINC), so the demo's FHIR download looks like one a real system would produce."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Condition:
    description: str
    icd10: str
    snomed: str
    # (name, RxNorm ingredient, dosage); the first is what the patient takes now
    medicines: tuple[tuple[str, str, str], ...]
    labs: tuple[str, ...]
    reason: str  # why a follow-up visit was booked
    notes: tuple[str, ...]  # what the provider wrote at such a visit
    adult_only: bool = True


# fmt: off
CHRONIC = (
    Condition(
        "High blood pressure", "I10", "38341003",
        (("Lisinopril 10 mg tablet", "29046", "1 tablet by mouth once daily"),
         ("Losartan 50 mg tablet", "52175", "1 tablet by mouth once daily"),
         ("Amlodipine 5 mg tablet", "17767", "1 tablet by mouth once daily")),
        ("creatinine", "potassium", "sodium"), "blood pressure",
        ("Blood pressure {bp} today. Continue current medicine. Limit salt and keep walking "
         "most days.", "Home readings reviewed, mostly at goal. Recheck in 3 months."),
    ),
    Condition(
        "Type 2 diabetes", "E11.9", "44054006",
        (("Metformin 500 mg tablet", "6809", "1 tablet by mouth twice daily with meals"),),
        ("a1c", "glucose"), "diabetes",
        ("A1c reviewed. Continue metformin with meals. Foot exam normal.",
         "Sugars improving with diet changes. Eye exam due this year."),
    ),
    Condition(
        "High cholesterol", "E78.5", "55822004",
        (("Atorvastatin 20 mg tablet", "83367", "1 tablet by mouth at bedtime"),),
        ("cholesterol", "hdl", "ldl", "triglycerides"), "cholesterol",
        ("Lipid panel reviewed. Continue atorvastatin. No muscle aches reported.",),
    ),
    Condition(
        "Underactive thyroid", "E03.9", "40930008",
        (("Levothyroxine 50 mcg tablet", "10582", "1 tablet by mouth every morning"),),
        ("tsh",), "thyroid",
        ("TSH in range on the current dose. Take levothyroxine on an empty stomach.",),
    ),
    Condition(
        "Acid reflux (GERD)", "K21.9", "235595009",
        (("Omeprazole 20 mg capsule", "7646", "1 capsule by mouth before breakfast"),),
        (), "heartburn",
        ("Heartburn well controlled. Avoid late meals. Try stopping omeprazole in 2 months.",),
    ),
    Condition(
        "Depression", "F32.9", "35489007",
        (("Sertraline 50 mg tablet", "36437", "1 tablet by mouth once daily"),),
        (), "mood",
        ("Mood better, sleeping well. Continue sertraline and counselling.",),
    ),
    Condition(
        "Vitamin D deficiency", "E55.9", "34713006",
        (("Vitamin D3 2000 units capsule", "2418", "1 capsule by mouth once daily"),),
        ("vitamin_d",), "vitamin D",
        ("Vitamin D level rechecked. Continue the supplement through the winter.",),
    ),
    Condition(
        "Asthma", "J45.20", "195967001",
        (("Albuterol inhaler 90 mcg per puff", "435",
          "2 puffs every 4 to 6 hours as needed for wheezing"),),
        (), "asthma",
        ("Using the inhaler about once a week. Asthma action plan reviewed.",),
        adult_only=False,
    ),
    Condition(
        "Seasonal allergies", "J30.9", "61582004",
        (("Cetirizine 10 mg tablet", "20610", "1 tablet by mouth daily in spring"),),
        (), "allergies",
        ("Allergy symptoms controlled with cetirizine during pollen season.",),
        adult_only=False,
    ),
)

# (description, ICD-10-CM, SNOMED CT, reason, note, medicine or None, labs)
ACUTE = (
    ("Sinus infection", "J01.90", "15805002", "Sinus congestion",
     "Congestion for 10 days. Started amoxicillin. Call if not better in a week.",
     ("Amoxicillin 500 mg capsule", "723", "1 capsule by mouth 3 times daily for 10 days"),
     ()),
    ("Acute bronchitis", "J20.9", "10509002", "Cough",
     "Cough for 2 weeks, lungs clear. Likely viral: rest, fluids, honey for the cough.", None,
     ()),
    ("Sore throat", "J02.9", "363746003", "Sore throat",
     "Rapid strep test negative. Salt-water gargles and ibuprofen as needed.", None,
     ("strep",)),
    ("Sprained ankle", "S93.409A", "44465007", "Ankle injury",
     "Twisted ankle playing sport. No fracture on exam. Rest, ice, compression, elevation.",
     None, ()),
)

# (substance, code system, code, category, reaction, severity, status, note)
ALLERGIES = (
    ("Penicillin", "rxnorm", "7980", "medication", "Hives", "moderate", "active", None),
    ("Sulfamethoxazole", "rxnorm", "10180", "medication", "Rash", "mild", "active", None),
    ("Codeine", "rxnorm", "2670", "medication", "Nausea and vomiting", "mild", "active", None),
    ("Aspirin", "rxnorm", "1191", "medication", "Wheezing", "moderate", "active", None),
    ("Peanut", "snomed", "256349002", "food", "Anaphylaxis", "severe", "active",
     "Carries an epinephrine auto-injector."),
    ("Eggs", "snomed", "102263004", "food", "Hives", "mild", "resolved", "Outgrown in childhood."),
    ("Shellfish", None, None, "food", "Throat swelling", "severe", "active", None),
    ("Latex", "snomed", "111088007", "environment", "Itchy rash", "mild", "active", None),
    ("Bee venom", "snomed", "288328004", "environment", "Swelling at the sting", "moderate",
     "active", None),
    ("Cat dander", None, None, "environment", None, None, "active", None),
)

# name, LOINC, unit, lowest normal, highest normal, range as printed, decimals, mean, spread
LABS: dict[str, tuple[str, str, str, float | None, float | None, str, int, float, float]] = {
    "glucose": ("Glucose, fasting", "2345-7", "mg/dL", 70, 99, "70-99", 0, 94, 12),
    "a1c": ("Hemoglobin A1c", "4548-4", "%", 4.0, 5.6, "4.0-5.6", 1, 6.4, 0.8),
    "cholesterol": ("Cholesterol, total", "2093-3", "mg/dL", None, 199, "<200", 0, 192, 30),
    "hdl": ("HDL cholesterol", "2085-9", "mg/dL", 40, None, ">=40", 0, 52, 12),
    "ldl": ("LDL cholesterol", "13457-7", "mg/dL", None, 99, "<100", 0, 108, 28),
    "triglycerides": ("Triglycerides", "2571-8", "mg/dL", None, 149, "<150", 0, 132, 45),
    "tsh": ("TSH", "3016-3", "m[IU]/L", 0.4, 4.0, "0.4-4.0", 2, 2.2, 1.2),
    "hemoglobin": ("Hemoglobin", "718-7", "g/dL", 12.0, 17.5, "12.0-17.5", 1, 14.2, 1.3),
    "wbc": ("White blood cell count", "6690-2", "10*3/uL", 4.5, 11.0, "4.5-11.0", 1, 7.0, 1.8),
    "platelets": ("Platelets", "777-3", "10*3/uL", 150, 450, "150-450", 0, 260, 60),
    "creatinine": ("Creatinine", "2160-0", "mg/dL", 0.6, 1.3, "0.6-1.3", 2, 0.95, 0.2),
    "potassium": ("Potassium", "2823-3", "mmol/L", 3.5, 5.1, "3.5-5.1", 1, 4.3, 0.4),
    "sodium": ("Sodium", "2951-2", "mmol/L", 136, 145, "136-145", 0, 140, 2.5),
    "vitamin_d": ("Vitamin D, 25-hydroxy", "1989-3", "ng/mL", 30, 100, "30-100", 0, 31, 10),
}
PHYSICAL_LABS = ("hemoglobin", "wbc", "platelets", "glucose", "creatinine", "potassium")
# Tests reported in words: name, LOINC, result, range as printed.
TEXT_LABS = {"strep": ("Strep A rapid test", "78012-2", "Negative", "Negative")}
# fmt: on
