"""Missing data: multiple imputation (MAR and reference-based), Rubin's rules, tipping point."""
