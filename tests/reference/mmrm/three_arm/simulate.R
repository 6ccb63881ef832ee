# Simulate three_arm.csv: a three-arm trial (placebo, low and high dose), 150 subjects, 5 post-baseline
# visits, an arm x visit interaction in the truth, monotone dropout plus a few intermittent missing values.
# Run from this folder:  Rscript simulate.R > simulate.Rout 2>&1
set.seed(20260902)
n <- 150
visits <- paste0("VIS", 1:5)
k <- length(visits)
subject <- sprintf("P%03d", seq_len(n))
arm <- sample(rep(c("PBO", "LOW", "HIGH"), each = n / 3))
age <- round(rnorm(n, 55, 10), 1)
sex <- sample(c("F", "M"), n, replace = TRUE)
baseline <- round(rnorm(n, 40, 6), 2)

visit_effect <- c(0, -1, -2, -2.5, -3)
arm_by_visit <- rbind(PBO = rep(0, k), LOW = c(-0.5, -1, -1.5, -2, -2.5), HIGH = c(-1, -2, -3, -4, -4.5))
sd <- c(4, 4.5, 5, 5.5, 6)
corr <- 0.25 + 0.6 * 0.7^abs(outer(1:k, 1:k, "-"))
diag(corr) <- 1
Sigma <- outer(sd, sd) * corr
errors <- matrix(rnorm(n * k), n, k) %*% chol(Sigma)
mean_score <- 10 + 0.7 * baseline + 0.05 * age + 1.0 * (sex == "M") + outer(rep(1, n), visit_effect) +
  arm_by_visit[arm, ]
score <- mean_score + errors

# monotone dropout after visit 1 (more likely after a high score), then intermittent missed visits
observed <- matrix(TRUE, n, k)
for (v in 2:k) {
  p_drop <- plogis(-3.1 + 0.15 * (score[, v - 1] - mean(score[, v - 1])))
  observed[, v] <- observed[, v - 1] & !(runif(n) < p_drop)
}
intermittent <- matrix(runif(n * k) < 0.04, n, k)
intermittent[, 1] <- FALSE  # every subject keeps visit 1
observed <- observed & !intermittent
cat("observed fraction by visit:", colMeans(observed), "\n")
cat("intermittent missing values:", sum(intermittent & t(apply(observed, 1, function(o) rev(cummax(rev(o)))) > 0)), "\n")

score <- round(score, 2)
score[!observed] <- NA
out <- data.frame(
  USUBJID = rep(subject, each = k), AVISIT = rep(visits, n), ARMCD = rep(arm, each = k),
  AGE = rep(age, each = k), SEX = rep(sex, each = k), SCORE_BL = rep(baseline, each = k),
  SCORE = as.vector(t(score))
)
write.csv(out, "three_arm.csv", row.names = FALSE, na = "")
cat("rows", nrow(out), "observed", sum(!is.na(out$SCORE)), "\n")
print(table(out$ARMCD[!is.na(out$SCORE)], out$AVISIT[!is.na(out$SCORE)]))
sessionInfo()
