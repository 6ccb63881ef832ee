# Simulate log_scale.csv: a two-arm trial with a positive, right-skewed response (C-reactive protein,
# mg/L) analysed on the log scale; 120 subjects, baseline + 4 post-baseline visits, monotone dropout.
# Run from this folder:  Rscript simulate.R > simulate.Rout 2>&1
set.seed(20260901)
n <- 120
visits <- paste0("VIS", 1:4)
k <- length(visits)
subject <- sprintf("S%03d", seq_len(n))
arm <- sample(rep(c("PBO", "TRT"), each = n / 2))
severity <- sample(c("mild", "moderate", "severe"), n, replace = TRUE, prob = c(0.4, 0.4, 0.2))
log_baseline <- rnorm(n, log(8), 0.6)

# truth on the log scale
visit_effect <- c(0, -0.05, -0.10, -0.12)
treatment_by_visit <- c(-0.10, -0.20, -0.30, -0.35)  # TRT - PBO at each visit
severity_effect <- c(mild = 0, moderate = 0.15, severe = 0.35)
sd <- c(0.35, 0.40, 0.45, 0.50)
corr <- 0.3 + 0.6 * 0.6^abs(outer(1:k, 1:k, "-"))
diag(corr) <- 1
Sigma <- outer(sd, sd) * corr
errors <- matrix(rnorm(n * k), n, k) %*% chol(Sigma)
mean_log <- 0.6 + 0.7 * log_baseline + outer(rep(1, n), visit_effect) +
  outer(arm == "TRT", treatment_by_visit) + severity_effect[severity]
log_response <- mean_log + errors

# monotone dropout after visit 1, more likely after a high previous value (missing at random)
observed <- matrix(TRUE, n, k)
for (v in 2:k) {
  p_drop <- plogis(-2.9 + 1.5 * (log_response[, v - 1] - mean(log_response[, v - 1])))
  drop <- observed[, v - 1] & (runif(n) < p_drop)
  observed[, v] <- observed[, v - 1] & !drop
}
cat("observed fraction by visit:", colMeans(observed), "\n")

response <- exp(log_response)
response[!observed] <- NA
out <- data.frame(
  USUBJID = rep(subject, each = k), AVISIT = rep(visits, n), ARMCD = rep(arm, each = k),
  SEVERITY = rep(severity, each = k), CRP_BL = rep(exp(log_baseline), each = k),
  CRP = as.vector(t(response))
)
write.csv(out, "log_scale.csv", row.names = FALSE, na = "")
cat("rows", nrow(out), "observed", sum(!is.na(out$CRP)), "\n")
print(table(out$ARMCD[!is.na(out$CRP)], out$AVISIT[!is.na(out$CRP)]))
print(table(severity))
sessionInfo()
