"""The demo model: a small LLaMA + LoRA adapter that mindq trains itself on MentaLLaMA's public
IMHI instruction data (github.com/SteveKGYang/MentalLLaMA, MIT licence), so a fresh install
answers something that means something. Not for clinical use; see models/mindq-demo/README.md.

    data        IMHI CSVs -> examples (train/val only; the test sets are never read here)
    everyday    general-domain negatives: everyday posts from a seeded generator
    train       tokenizer, base language model, LoRA instruction tuning, model card
    evaluate    weighted F1 per task from greedy answers, beside the majority-class baseline
"""
