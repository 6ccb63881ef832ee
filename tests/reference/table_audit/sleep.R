# Worked example for the table-level tools of trialkit.reproduce.audit: Student's sleep data, where both the published
# summary table and the individual data are public.
#
#   Student (1908). The probable error of a mean. Biometrika 6(1):1-25, Illustration I (p. 20),
#   from Cushny & Peebles (1905), J Physiol 32:501-510. R: datasets::sleep (10 patients, extra
#   hours of sleep under drug 1 and under drug 2; each patient took both drugs).
#
# Run from the repository root:
#   Rscript tests/reference/table_audit/sleep.R
# Writes, in tests/reference/table_audit/ (numbers as text with 17 significant digits):
#   sleep.csv        the individual data (one row per patient, extra sleep under each drug)
#   sleep_table.csv  the summary table: mean and SD per drug and of the difference (drug 2 - drug 1)
#                    computed from the data with divisor n - 1 and with divisor n, beside the values
#                    Student printed (transcribed from the 1908 table) and whether they agree
#   expected.csv     R's t.test (paired; Welch and Student two-sample) and cor(drug1, drug2)
#   versions.txt     R version
#
# Student's table prints S.D. 1.70, 1.90 and 1.17: the divisor-n SDs (1.6972, 1.8997, 1.1667)
# rounded to 2 decimals. With divisor n - 1 they would be 1.79, 2.00 and 1.23. The columns are
# labelled Dextro- (1) and Laevo- (2) hyoscyamine in the paper; R's group 1 and 2 are the same columns.
# The published p used by the tests for the paired comparison is R's paired t-test p rounded to
# 3 decimals ("0.003"), as a journal would print it: Student himself reported a probability from his
# own z tables, not a t-test p-value.
out_dir <- "tests/reference/table_audit"
fmt <- function(x) sprintf("%.17g", x)

drug1 <- sleep$extra[sleep$group == "1"][order(sleep$ID[sleep$group == "1"])]
drug2 <- sleep$extra[sleep$group == "2"][order(sleep$ID[sleep$group == "2"])]
stopifnot(length(drug1) == 10, length(drug2) == 10)
diff <- drug2 - drug1
n <- length(drug1)

write.csv(data.frame(patient = 1:n, drug1 = drug1, drug2 = drug2),
          file.path(out_dir, "sleep.csv"), row.names = FALSE)

sd_n <- function(x) sqrt(sum((x - mean(x))^2) / length(x))
published_mean <- c(0.75, 2.33, 1.58)
published_sd <- c(1.70, 1.90, 1.17)
cols <- list(drug1 = drug1, drug2 = drug2, difference = diff)
table <- data.frame(
  quantity = names(cols),
  n = n,
  mean = sapply(cols, mean),
  sd_divisor_n_minus_1 = sapply(cols, sd),
  sd_divisor_n = sapply(cols, sd_n),
  published_mean = published_mean,
  published_sd = published_sd
)
table$published_sd_matches <- ifelse(abs(round(table$sd_divisor_n, 2) - table$published_sd) < 1e-9,
                                     "divisor_n",
                                     ifelse(abs(round(table$sd_divisor_n_minus_1, 2) - table$published_sd) < 1e-9,
                                            "divisor_n_minus_1", "neither"))
stopifnot(all(abs(round(table$mean, 2) - published_mean) < 1e-9))
num <- c("mean", "sd_divisor_n_minus_1", "sd_divisor_n")
table[num] <- lapply(table[num], fmt)
write.csv(table, file.path(out_dir, "sleep_table.csv"), row.names = FALSE)

row <- function(test, tt) {
  data.frame(test = test, estimate = fmt(unname(if (length(tt$estimate) == 2) tt$estimate[1] - tt$estimate[2] else tt$estimate)),
             std_error = fmt(tt$stderr), statistic = fmt(unname(tt$statistic)),
             df = fmt(unname(tt$parameter)), p_value = fmt(tt$p.value),
             ci_low = fmt(tt$conf.int[1]), ci_high = fmt(tt$conf.int[2]))
}
expected <- rbind(
  row("paired", t.test(drug2, drug1, paired = TRUE)),
  row("welch", t.test(drug2, drug1)),
  row("student", t.test(drug2, drug1, var.equal = TRUE)),
  data.frame(test = "cor", estimate = fmt(cor(drug1, drug2)), std_error = NA, statistic = NA,
             df = NA, p_value = NA, ci_low = NA, ci_high = NA)
)
write.csv(expected, file.path(out_dir, "expected.csv"), row.names = FALSE)
writeLines(R.version.string, file.path(out_dir, "versions.txt"))
