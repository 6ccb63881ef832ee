# One simulated 2-arm trial: 200 subjects, baseline + 4 post-baseline visits, a treatment benefit
# (lower is better) growing to -4 points at the last visit, and monotone dropout that depends on the arm
# and on the last observed value (missing at random), more frequent in the control arm.
# Run: R CMD BATCH --no-save --no-restore simulate.R   (writes simulate.Rout and data.csv)
source("../exact_csv.R")
print_versions("MASS")
set.seed(20240611)

n_per_arm <- 100
visits <- 4
arm <- rep(c("control", "active"), each = n_per_arm)
active <- as.numeric(arm == "active")
baseline <- round(rnorm(2 * n_per_arm, 24, 4), 1)

control_mean <- c(22.0, 20.5, 19.5, 18.5)
benefit <- c(-1.0, -2.0, -3.0, -4.0)
slope <- c(0.75, 0.65, 0.6, 0.55)  # on baseline - 24
sds <- c(3.5, 4.0, 4.5, 5.0)
Sigma <- diag(sds) %*% outer(1:visits, 1:visits, function(i, j) 0.7^abs(i - j)) %*% diag(sds)
mean <- outer(rep(1, 2 * n_per_arm), control_mean) + outer(active, benefit) + outer(baseline - 24, slope)
y <- round(mean + MASS::mvrnorm(2 * n_per_arm, rep(0, visits), Sigma), 1)

# dropout before visit t (then missing from t on): logistic in the arm and the last value seen
last_seen <- baseline
dropped <- rep(FALSE, 2 * n_per_arm)
for (t in 1:visits) {
  hazard <- plogis(-3.1 + 0.8 * (1 - active) + 0.1 * (last_seen - 22))
  dropped <- dropped | (runif(2 * n_per_arm) < hazard)
  y[dropped, t] <- NA
  last_seen <- ifelse(dropped, last_seen, y[, t])
}
data <- data.frame(subject = sprintf("S%03d", seq_len(2 * n_per_arm)), arm = arm, baseline = baseline,
                   setNames(as.data.frame(y), paste0("visit", 1:visits)))
write_exact_csv(data, "data.csv", digits = 15)
stopifnot(identical(read.csv("data.csv")[, -(1:2)], data[, -(1:2)]))

cat("Missing at each visit, by arm:\n")
print(aggregate(cbind(visit1, visit2, visit3, visit4) ~ arm, data = transform(data[, -1],
      visit1 = is.na(visit1), visit2 = is.na(visit2), visit3 = is.na(visit3), visit4 = is.na(visit4)),
      FUN = sum, na.action = na.pass))
stopifnot(all(apply(is.na(y), 1, function(r) all(diff(r) >= 0))))  # monotone: once missing, missing after
cat("Observed-data mean at visit 4: control", mean(y[arm == "control", 4], na.rm = TRUE),
    "active", mean(y[arm == "active", 4], na.rm = TRUE), "\n")
sessionInfo()
