"""Per-detector tables: text -> what must be masked (with its kind) and what must stay, side by side."""
import pytest

from .helpers import Case, check

NAMES = [
    Case("Dr. Smith saw her today.", [("Smith", "NAME")], ["Dr."]),
    Case("Seen by Dr. J. Okafor, MD.", [("J. Okafor", "NAME")]),
    Case("Mrs garcia called back.", [("garcia", "NAME")]),
    Case("My sister jenny keeps texting me.", [("jenny", "NAME")], ["sister"]),
    Case("my therapist June says I'm improving", [("June", "NAME")]),
    Case("Kriszti\u00e1n Sz\u00f6ll\u00f6sy listed his top 20 songs", [("Kriszti\u00e1n Sz\u00f6ll\u00f6sy", "NAME")]),
    Case("Yesterday Nancy said I looked tired.", [("Nancy", "NAME")]),
    Case("I told Rose that I was not ready.", [("Rose", "NAME")]),
    Case("Mark said I should journal more.", [("Mark", "NAME")]),
    Case("Faina D. Yefremova's Cautionary Tales", [("Faina D. Yefremova", "NAME")], ["'s Cautionary"]),
    Case("My name is Rubija", [("Rubija", "NAME")]),
    Case("Patient: SMITH, JOHN   MRN: 12345678", [("SMITH, JOHN", "NAME")]),
    Case("SMITH, JOHN A", [("SMITH, JOHN A", "NAME")]),
    Case("Signed: A. Mimun, PMHNP", [("A. Mimun", "NAME")], ["PMHNP"]),
    Case("met terrence for coffee", [("terrence", "NAME")]),
    Case("Anna-Marie and I had a fight.", [("Anna-Marie", "NAME")]),
    Case("Note written by L.J. on 9/8/2018.", [("L.J.", "NAME")]),
    Case("Costa, Isabelle was brought in by EMS", [("Costa, Isabelle", "NAME")]),
    Case("NAME: Pippa van der Avoirt  ACCT#: 727482", [("Pippa van der Avoirt", "NAME")], ["ACCT"]),
    Case("PCP is Dr. Troy Ward at the clinic.", [("Troy Ward", "NAME")]),
    Case("I hate that attila still doesn't believe me.", [("attila", "NAME")]),
    Case("Texted Per but she left me on read.", [("Per", "NAME")]),
    Case("follow up with benjamin a seiler soon", [("benjamin a seiler", "NAME")]),
    Case("Grace picked me up. Frank drove.", [("Grace", "NAME"), ("Frank", "NAME")]),
    Case("Dictated by R. Toft 2009-03-06", [("R. Toft", "NAME")]),
    Case("Name:    Martim A Pereira", [("Martim A Pereira", "NAME")]),
    Case("I have a dog. A cat too. Plan A or plan B.", [], ["A cat", "Plan A"]),
    Case("Ubul: What a wife.\nNicole: Remember me?", [("Ubul", "NAME"), ("Nicole", "NAME")]),
    # clinical words that look like names stay
    Case("Father with Bell's palsy, mother with Parkinson's disease.", [], ["Bell", "Parkinson"]),
    Case("Zoloft helps. Started Lexapro 10 mg.", [], ["Zoloft", "Lexapro"]),
    Case("Beck Depression Inventory score 21; Down syndrome.", [], ["Beck", "Down"]),
    Case("C-SSRS negative. Columbia protocol reviewed.", [], ["Columbia"]),
    Case("Abd: Soft. Neuro: intact. Psych: Euthymic. Akathisia resolved. Ingrezza started. Tardive dyskinesia.",
         [], ["Abd", "Neuro", "Euthymic", "Akathisia", "Ingrezza", "Tardive"]),
    Case("Shovda is very reliable. Usamov and Bowers were great.", [("Shovda", "NAME"), ("Usamov", "NAME")]),
    Case("Duqyaha called. Later Duqyaha left.", [("Duqyaha", "NAME")]),
    Case("In May I felt better.", [("May", "DATE")]),
    Case("I may go to group. Will it help?", [], ["may", "Will"]),
    Case("Chief Complaint: low mood. Assessment and Plan: continue.", [], ["Chief", "Complaint", "Plan"]),
    Case("Court-appointed guardian present. Follow-up in 2 weeks.", [], ["Court-appointed", "Follow-up"]),
    Case("I'm tired and I've been crying. Can't sleep.", [], ["I'm", "I've", "Can't"]),
    Case("EKG: NSR, QTc 421. Beta-hCG negative.\nScales: PHQ-9 12", [], ["QTc", "Beta-hCG", "Scales"]),
    Case("Watched Netflix, then Spotify; deleted Instagram.", [], ["Netflix", "Spotify", "Instagram"]),
    Case("Insurance: Aetna. Sat outside for like 20 min.", [], ["Aetna", "min"]),
    Case("ok so jess cancelled on me again", [("jess", "NAME")]),
    Case("Dr. McDonald and Mr. DeShawn O'Neil", [("McDonald", "NAME"), ("DeShawn O'Neil", "NAME")]),
    Case("Patient Mr. QuillonIgikmp wrote; Dr. VanDerBeek saw him",
         [("QuillonIgikmp", "NAME"), ("VanDerBeek", "NAME")]),
]

DATES = [
    Case("Admitted 3/4/2024 and again on 03/04/24.", [("3/4/2024", "DATE"), ("03/04/24", "DATE")]),
    Case("seen on 3/4 for follow-up", [("3/4", "DATE")]),
    Case("Next visit 2024-03-04 14:30.", [("2024-03-04", "DATE")]),
    Case("DOB: 4-Mar-2024", [("4-Mar-2024", "DATE")]),
    Case("on March 4th, 2024 and March 4", [("March 4th, 2024", "DATE"), ("March 4", "DATE")]),
    Case("the 4th of March", [("4th of March", "DATE")]),
    Case("Since the 21st I have not slept.", [("21st", "DATE")]),
    Case("move it from Thursday the 14th", [("Thursday the 14th", "DATE")]),
    Case("Christmas 2023 was hard.", [("Christmas 2023", "DATE")]),
    Case("Born in 1977.", [("1977", "DATE")]),
    # scores, doses, pressures, times and relative phrases are not dates
    Case("PHQ-9 of 14, GAD-7 11, sertraline 10 mg.", [], ["14", "11", "10 mg"]),
    Case("BP 120/80, HR 76, pain 7/10, strength 5/5.", [], ["120/80", "7/10", "5/5"]),
    Case("Last Tuesday was bad; two weeks ago was worse.", [], ["Last Tuesday", "two weeks ago"]),
    Case("Meeting at 10:30 then group at 2pm.", [], ["10:30"]),
    Case("Took 1/2 tab of trazodone. Smokes 1/2 PPD.", [], ["1/2 tab", "1/2 PPD"]),
    Case("mood 6/10 today", [], ["6/10"]),
    Case("walked 2000 steps", [], ["2000"]),
]

CONTACT = [
    Case("Call me at (617) 555-0123 or 617-555-0199 ext. 42.",
         [("(617) 555-0123", "PHONE"), ("617-555-0199 ext. 42", "PHONE")]),
    Case("UK mobile +44 20 7946 0958, Swiss +41 (0)85 806 98 67.",
         [("+44 20 7946 0958", "PHONE"), ("+41 (0)85 806 98 67", "PHONE")]),
    Case("fax: 555.867.5309", [("555.867.5309", "PHONE")]),
    Case("Write to jane.doe+notes@example.co.uk today.", [("jane.doe+notes@example.co.uk", "EMAIL")]),
    Case("See https://www.example.org/p/123 and www.mychart.com.", [("https://www.example.org/p/123", "URL"),
                                                                   ("www.mychart.com", "URL")]),
    Case("Logged in from 192.168.10.24 and 2001:db8::8a2e:370:7334",
         [("192.168.10.24", "IP"), ("2001:db8::8a2e:370:7334", "IP")]),
    Case("e.g. the dose, i.e. 10 mg, version 1.2.3", [], ["e.g.", "i.e.", "1.2.3"]),
    Case("Weight 82.5 kg, A1c 6.2%.", [], ["82.5", "6.2"]),
]

IDENTIFIERS = [
    Case("SSN 123-45-6789 on file", [("123-45-6789", "SSN")]),
    Case("social security number 123456789", [("123456789", "SSN")]),
    Case("last 4 of her SSN are 6789", [("6789", "SSN")]),
    Case("SSN ending in 6789 on file", [("6789", "SSN")]),
    Case("MRN: 00123456", [("00123456", "MRN")]),
    Case("Medical record number MR2608934.", [("MR2608934", "MRN")]),
    Case("member ID W123456789, policy no. 55-8812-3", [("W123456789", "ID"), ("55-8812-3", "ID")]),
    Case("driver's license F162823540116", [("F162823540116", "ID")]),
    Case("card 4454 7945 1139 0933", [("4454 7945 1139 0933", "ID")]),
    Case("IBAN GB85QZXO20740530696990", [("GB85QZXO20740530696990", "ID")]),
    Case("PHQ-9 score 14, COVID-19 negative, vitamin B12 low.", [], ["PHQ-9", "COVID-19", "B12"]),
]

PLACES = [
    Case("Lives at 3784 Archwood Avenue, Apt. 905, Boston, MA 02115.",
         [("3784 Archwood Avenue, Apt. 905", "ADDRESS"), ("Boston", "LOCATION"), ("MA", "LOCATION"),
          ("02115", "ADDRESS")]),
    Case("i live at 12 oak street now", [("12 oak street", "ADDRESS")]),
    Case("P.O. Box 1234", [("P.O. Box 1234", "ADDRESS")]),
    Case("Mellemvej 32 and Via Roma, 12", [("Mellemvej 32", "ADDRESS"), ("Via Roma, 12", "ADDRESS")]),
    Case("pharmacy on aleja Powstańców Śląskich 832.", [("aleja Powstańców Śląskich 832", "ADDRESS")]),
    Case("from 004 Şama Forges Apt. 838;", [("004 Şama Forges Apt. 838", "ADDRESS")]),
    Case("Moved to Canada from Poland.", [("Canada", "LOCATION"), ("Poland", "LOCATION")]),
    Case("transferred to Mercy General Hospital", [("Mercy General Hospital", "LOCATION")]),
    Case("went to phoenix with my friend", [("phoenix", "LOCATION")]),
    Case("Took 3 pills at the park, then the hospital.", [], ["3 pills", "park", "hospital"]),
    Case("Dr. Rhodes, MD.", [("Rhodes", "NAME")], ["MD"]),
    Case("Mr. Leiva flew to LEPPEN on Tuesday.", [("LEPPEN", "LOCATION")], ["Tuesday"]),
    Case("28245 Puruntie 82 Apt. 595\nLAPPEENRANTA\nFinland 53650",
         [("28245 Puruntie 82 Apt. 595", "ADDRESS"), ("LAPPEENRANTA", "LOCATION"), ("Finland", "LOCATION")]),
    Case("admitted to CCU in NSR, moved to ICU", [], ["CCU", "NSR", "ICU"]),
    Case("his address: 5049 Harjukuja 54, SEINÄJOKI", [("5049 Harjukuja 54", "ADDRESS")]),
    Case("He lives on the north side of Joaquin Suarez 2906.", [("Joaquin Suarez 2906", "ADDRESS")]),
    Case("ZIP: 3520", [("3520", "ADDRESS")]),
    Case("meeting at the church on 5th and Pine", [("5th and Pine", "ADDRESS")]),
    Case("meet at the corner of Csabai kapu 39. and Mathias Pass", [("Csabai kapu 39. and Mathias Pass", "ADDRESS")]),
    Case("Grief group at St. Luke's tonight.", [("St. Luke's", "LOCATION")]),
    Case("Address on file: Bulevardul Aida Nemeș Nr. 28, Raleigh", [("Bulevardul Aida Nemeș Nr. 28", "ADDRESS")]),
    Case("Address on file: Plynární 576, Leeds", [("Plynární 576", "ADDRESS")]),
]

AGES = [
    Case("a 92 yo male", [("92", "AGE")]),
    Case("This 101-year-old woman", [("101", "AGE")]),
    Case("Grandpa is 93 now.", [("93", "AGE")]),
    Case("aged 95", [("95", "AGE")]),
    Case("a ninety-two year old woman", [("ninety-two", "AGE")]),
    Case("Mother, Ann Lee, age 93, lives alone.", [("93", "AGE")]),
    Case("This 79 year old female", [], ["79"]),
    Case("SpO2 98%, HR 95 bpm", [], ["98", "95"]),
]


@pytest.mark.parametrize("case", NAMES, ids=str)
def test_names(scrubber, case):
    check(case, scrubber.detect(case.text))


@pytest.mark.parametrize("case", DATES, ids=str)
def test_dates(scrubber, case):
    check(case, scrubber.detect(case.text))


@pytest.mark.parametrize("case", CONTACT, ids=str)
def test_contact(scrubber, case):
    check(case, scrubber.detect(case.text))


@pytest.mark.parametrize("case", IDENTIFIERS, ids=str)
def test_identifiers(scrubber, case):
    check(case, scrubber.detect(case.text))


@pytest.mark.parametrize("case", PLACES, ids=str)
def test_places(scrubber, case):
    check(case, scrubber.detect(case.text))


@pytest.mark.parametrize("case", AGES, ids=str)
def test_ages(scrubber, case):
    check(case, scrubber.detect(case.text))
