"""Parser tables for the IMHI types.

Answers come from MentalLLaMA (github.com/SteveKGYang/MentalLLaMA): the gold answers of
test_data/test_instruction/*.csv and test_data/test_complete/*.csv, MentaLLaMA generations in
examples/response_generation_examples/*.csv and the README; positives and negatives side by side.
"""

import pytest

import prompts

CASES = [
    # imhi.dr: gold instruction shape, both ways
    ("imhi.dr", "Yes, the poster suffers from depression. Reasoning: The post displays a "
                "significant amount of emotional distress.", "yes"),
    ("imhi.dr", "No, the poster does not suffer from depression. Reasoning: it is not possible to "
                "determine if the poster suffers from depression.", "no"),
    # completion shape
    ("imhi.dr", "yes. Reasoning: The poster describes feeling numb.", "yes"),
    ("imhi.dr", "no. Reasoning: The post is a question about a website.", "no"),
    # README (MentaLLaMA-33B-lora): a leading `Reasoning:` before the label
    ("imhi.dr", "Reasoning: Yes, the poster suffers from depression. Reasoning: The poster's "
                "statement expresses a sense of emotional numbness.", "yes"),
    # generations without `Reasoning:` or without a label sentence
    ("imhi.dr", "\nNo, the poster does not suffer from depression. The post does not exhibit "
                "strong emotional indicators of very severe depression.", "no"),
    ("imhi.dr", "\n\nReasoning: The post does not exhibit strong emotional indicators of very "
                "severe depression. The poster is seeking advice.", "no"),
    ("imhi.dr", "Reasoning: The post displays several emotional indicators of very severe "
                "depression. The poster expresses feelings of worthlessness.", "yes"),
    ("imhi.dr", "The poster is clearly depressed: they feel empty every day.", "yes"),
    ("imhi.dr", "The poster is not depressed; they are asking about a recipe.", "no"),
    # stray whitespace, case, markup
    ("imhi.dr", "   YES ,  the poster SUFFERS from depression.   reasoning :   hopeless.  ", "yes"),
    ("imhi.dr", "**No**, the poster does not suffer from depression.", "no"),
    ("imhi.dr", "Answer: no.", "no"),
    ("imhi.dreaddit", "Yes, the poster suffers from stress. Reasoning: deadlines.", "yes"),
    ("imhi.dreaddit", "\n\nNo, the poster does not suffer from stress. Reasoning: The poster is "
                      "describing their job responsibilities.", "no"),
    ("imhi.dreaddit", "The poster doesn't seem stressed at all.", "no"),
    ("imhi.loneliness", "Yes, the poster suffers from loneliness. Reasoning: no friends.", "yes"),
    ("imhi.loneliness", "No, the poster does not suffer from loneliness. Reasoning: The poster "
                        "mentions having friends.", "no"),
    ("imhi.irf", "Yes, the post shows this risk. Reasoning: 1. The individual expresses fear.",
     "yes"),
    ("imhi.irf", "No, the post does not show this risk. Reasoning: The individual is seeking "
                 "information about Lexapro.", "no"),
    ("imhi.irf", "yes, the post does show a risk of thwarted belongingness.", "yes"),
    ("imhi.irf", "Reasoning: Yes, the post shows risk of perceived burdensomeness. \n\n1. The post "
                 "mentions having bad thoughts.", "yes"),
    ("imhi.irf", "\n\nReasoning: The given post does not show risk of thwarted belongingness. The "
                 "individual is seeking information.", "no"),
    ("imhi.multiwd", "Yes, this wellness dimension exists in the post. Reasoning: gym.", "yes"),
    ("imhi.multiwd", "No, this wellness dimension does not exist in the post. Reasoning: In the "
                     "post, the individual expresses feelings of being unappreciated.", "no"),
    ("imhi.multiwd", "\n\nReasoning: The wellness dimension of physical aspect does not exist in "
                     "the post. The post primarily focuses on feelings of numbness.", "no"),
    ("imhi.multiwd", "\n\nReasoning: No, the post does not mention anything related to work or "
                     "career.", "no"),
    ("imhi.multiwd", "yes.", "yes"),
    # imhi.sad: every gold label phrase
    ("imhi.sad", "This post shows the stress cause related to school. Reasoning: exams.", "school"),
    ("imhi.sad", "This post shows the stress cause related to financial problem. Reasoning: The "
                 "post mentions the potential damage to the US economy.", "financial"),
    ("imhi.sad", "This post shows the stress cause related to family issues. Reasoning: x",
     "family"),
    ("imhi.sad", "This post shows the stress cause related to social relationships. Reasoning: x",
     "social"),
    ("imhi.sad", "This post shows the stress cause related to work. Reasoning: The post mentions "
                 "school work and family.", "work"),
    ("imhi.sad", "This post shows the stress cause related to health issues. Reasoning: x",
     "health"),
    ("imhi.sad", "This post shows the stress cause related to emotion turmoil. Reasoning: x",
     "emotional"),
    ("imhi.sad", "This post shows the stress cause related to everyday decision making. "
                 "Reasoning: x", "everyday"),
    ("imhi.sad", "This post shows other stress causes. Reasoning: x", "other"),
    ("imhi.sad", "financial problem.", "financial"),
    ("imhi.sad", "other causes.", "other"),
    # README / generations: label inside prose, option lists, `Answer:` prefix
    ("imhi.sad", "This post indicates that the poster's sister has tested positive for ovarian "
                 "cancer and that the family is devastated. This suggests that the cause of stress "
                 "in this situation is health issues, specifically the sister's diagnosis of "
                 "ovarian cancer. The post does not mention any other potential stress causes, "
                 "making health issues the most appropriate label in this case.", "health"),
    ("imhi.sad", "\n\nAnswer: The appropriate label for this post is Work. The post mentions work "
                 "in general.", "work"),
    ("imhi.sad", "\n\nA) Health issues\nB) Social relationships\nC) Work\nD) Emotional turmoil\n\n"
                 "Correct answer: A) Health issues. Reasoning: The poster's foot got stepped on.",
     "health"),
    ("imhi.sad", "\n\nA. School\nB. Work\nC. Family issues\nD. Health issues\n\nReasoning: The post "
                 "mentions balancing work and school. Therefore, the appropriate label for this "
                 "post is B. Work.", "work"),
    ("imhi.sad", "This post indicates that the poster's boss was driving them nuts. This falls "
                 "under the category of work-related stress.", "work"),
    ("imhi.cams", "This post shows causes of depression related to alienation. Reasoning: The "
                  "post displays a clear sense of isolation.", "alienation"),
    ("imhi.cams", "This post shows causes of depression related to relationship. Reasoning: x",
     "relation"),
    ("imhi.cams", "This post shows causes of depression related to jobs and career. Reasoning: x",
     "job"),
    ("imhi.cams", "This post shows causes of depression related to medication. Reasoning: weed",
     "medication"),
    ("imhi.cams", "This post shows causes of depression related to bias or abuse. Reasoning: x",
     "bias"),
    ("imhi.cams", "This post shows no causes of depression. Reasoning: the job is fine.", "none"),
    ("imhi.cams", "jobs and career.", "job"),
    ("imhi.swmh", "This post shows mental disorder symptoms related to suicide. Reasoning: The "
                  "post directly uses the term 'Suicidal'.", "suicide"),
    ("imhi.swmh", "This post shows mental disorder symptoms related to bipolar disorder. "
                  "Reasoning: x", "bipolar"),
    ("imhi.swmh", "This post shows mental disorder symptoms related to anxiety. Reasoning: x",
     "anxiety"),
    ("imhi.swmh", "This post shows mental disorder symptoms related to depression. Reasoning: x",
     "depression"),
    ("imhi.swmh", "This post shows no mental disorder symptoms. Reasoning: not depression.",
     "no mental"),
    ("imhi.t-sid", "This post shows suicide or self-harm tendency. Reasoning: The use of the "
                   "phrase 'I didn't kill myself'.", "suicide"),
    ("imhi.t-sid", "This post shows no mental disorders. Reasoning: condolences.", "control"),
    ("imhi.t-sid", "This post shows depression. Reasoning: x", "depression"),
    ("imhi.t-sid", "This post shows PTSD. Reasoning: flashbacks.", "ptsd"),
    ("imhi.t-sid", "no mental disorders.", "control"),
    ("imhi.t-sid", "suicide or self-harm tendency.", "suicide"),
]

UNPARSED = [
    # no decision anywhere, or one the model hedges on
    ("imhi.dr", ""),
    ("imhi.dr", "I'm sorry, I cannot help with that."),
    ("imhi.dr", "It is unclear whether the poster suffers from depression."),
    ("imhi.dr", "Reasoning: The post conveys a strong desire to escape and find solace in music."),
    ("imhi.multiwd", "Reasoning: In the post, the individual expresses a deep self-hatred and a "
                     "desire to stop feeling this way."),
    ("imhi.irf", "Reasoning: 1. The post mentions wishing to know no one."),
    ("imhi.sad", "This post is unclear and does not provide enough information to determine the "
                 "cause of stress. It could be related to emotional or health issues."),
    ("imhi.sad", "\n\nA) Emotional turmoil\nB) Financial problem\nC) Health issues\n"
                 "D) Family issues\n\nReasoning: The post mentions being angry."),
    ("imhi.sad", "The post mentions work and school."),  # a tie is not an answer
    ("imhi.cams", "This post does not show causes of depression related to alienation."),
    ("imhi.t-sid", "The answer is unknown."),
    ("imhi.swmh", "Consider this post: Question:"),
]


@pytest.mark.parametrize("name,raw,label", CASES)
def test_imhi_answer_label(name, raw, label):
    result = prompts.parse(name, raw)
    assert result["label"] == label, result
    assert result["parsed"] is True
    assert result["raw"] == raw
    assert label in prompts.ANALYSIS_TYPES[name].labels
    assert "confidence" not in result  # IMHI answers carry none


@pytest.mark.parametrize("name,raw", UNPARSED)
def test_imhi_unparseable(name, raw):
    result = prompts.parse(name, raw)
    assert result["label"] is None and result["parsed"] is False, result
    assert result["raw"] == raw


@pytest.mark.parametrize("raw,rationale", [
    ("Yes, the poster suffers from depression. Reasoning: The poster feels numb.",
     "The poster feels numb."),
    ("Reasoning: Yes, the poster suffers from depression. Reasoning: The poster feels numb.",
     "The poster feels numb."),
    ("No, the poster does not suffer from depression. The post is about a recipe.",
     "The post is about a recipe."),
    ("yes.", None),
])
def test_imhi_rationale(raw, rationale):
    assert prompts.parse("imhi.dr", raw)["rationale"] == rationale


def test_result_names_the_prompt_version():
    assert prompts.parse("imhi.sad", "work.")["prompt_version"] == "imhi.sad@1"


@pytest.mark.parametrize("name,labels", [
    # MentalLLaMA src/label_inference.py get_dict(), in its order
    ("imhi.dr", ("no", "yes")),
    ("imhi.dreaddit", ("no", "yes")),
    ("imhi.loneliness", ("no", "yes")),
    ("imhi.irf", ("no", "yes")),
    ("imhi.multiwd", ("no", "yes")),
    ("imhi.sad", ("school", "financial", "family", "social", "work", "health", "emotional",
                  "everyday", "other")),
    ("imhi.cams", ("none", "bias", "job", "medication", "relation", "alienation")),
    ("imhi.swmh", ("depression", "suicide", "anxiety", "bipolar", "no mental")),
    ("imhi.t-sid", ("depression", "suicide", "ptsd", "control")),
])
def test_imhi_labels_are_mentallama_label_words(name, labels):
    assert prompts.ANALYSIS_TYPES[name].labels == labels


@pytest.mark.parametrize("name,raw,label", [
    # cut off by max_new_tokens mid-reasoning or mid-label sentence
    ("imhi.dr", "Yes, the poster suffers from depression. Reasoning: The post displays a signif",
     "yes"),
    ("imhi.cams", "This post shows causes of depression related to alienation. Reason", "alienation"),
    ("imhi.sad", "This post shows the stress cause related to health", "health"),
])
def test_truncated_answers_still_parse(name, raw, label):
    assert prompts.parse(name, raw)["label"] == label
