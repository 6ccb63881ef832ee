"""Reproducing published trials: published results as data, and the audits that check them.

Import the submodules directly; this package module imports nothing, so that ``trialkit validate``
and ``trialkit analyze`` stay fast.

Published results
    ``published`` - the published-results file of docs/published-results.md (``read_published``);
    ``pvalues`` - a p-value as published (``PValue``), read and compared the same way everywhere.
Abstract level (n, directions, p-values)
    ``abstract_audit`` - what the published p-values and n imply (``audit_abstract``);
    ``implied_effect`` - p <-> t <-> d, exact CIs, power and the minimal detectable effect.
Table level (n, means and SDs per arm)
    ``table_audit`` - all the table-level tools in one place, from:
    ``grim`` (GRIM, GRIMMER), ``sd_bounds`` (SDs possible on a bounded scale),
    ``summary_tests`` (t-tests from summary statistics, baseline imbalance, change SD),
    ``change_over_r`` (the change comparison over the pre-post correlation) and
    ``table_verdict`` (is a published p reproduced by the published table?).
Individual level
    ``moment_matching`` and ``reconstruct`` - synthetic data that reproduce the published p-values;
    ``reproduction`` - one verdict per published outcome (``reproduce``).
"""
