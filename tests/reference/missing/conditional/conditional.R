# Conditional normal moments of the missing responses under MAR, jump-to-reference (J2R) and
# copy-reference (CR), for a small 3-arm trial with fixed (B, Sigma). Written from the model alone:
#   joint mean of subject i: MAR  x_i'B at every visit;
#                            J2R  x_i'B up to the last observed visit, x_i^ref'B after it;
#                            CR   x_i^ref'B at every visit;
#   (subjects of the reference arm: x_i^ref = x_i, so every method is MAR for them);
#   missing | observed ~ N(mu_m + S_mo S_oo^-1 (y_o - mu_o), S_mm - S_mo S_oo^-1 S_om).
# Run: R CMD BATCH --no-save --no-restore conditional.R   (writes conditional.Rout and the CSV files)
source("../exact_csv.R")
print_versions(character(0))

visits <- 4
data <- read.csv(text = "
subject,arm,baseline,age,y1,y2,y3,y4
1,0,21.5,54,19.2,18.1,17.5,16.0
2,0,18.0,61,17.4,16.9,15.2,NA
3,0,24.5,47,22.0,NA,20.3,NA
4,0,20.0,70,NA,NA,NA,NA
5,1,22.0,58,19.0,16.8,14.9,13.1
6,1,19.5,66,18.3,15.7,NA,NA
7,1,25.0,52,21.9,NA,17.2,15.0
8,1,17.5,63,15.1,NA,NA,NA
9,2,23.0,49,NA,20.1,18.8,17.9
10,2,20.5,57,18.8,NA,16.4,NA
11,2,16.0,68,NA,NA,NA,NA
12,2,22.5,45,20.2,19.0,NA,17.1
")
X <- cbind(intercept = 1, arm1 = as.numeric(data$arm == 1), arm2 = as.numeric(data$arm == 2),
           baseline = data$baseline, age = data$age)
Y <- as.matrix(data[, paste0("y", 1:visits)])
arm_columns <- c(2, 3)  # columns of X holding the dummies of arms 1 and 2 (1-based here)

B <- rbind(intercept = c(6.0, 5.5, 5.0, 4.5),
           arm1 = c(-0.8, -1.9, -2.7, -3.6),
           arm2 = c(0.4, -0.3, -1.1, -1.8),
           baseline = c(0.62, 0.58, 0.55, 0.51),
           age = c(0.031, 0.024, 0.017, 0.012))
sds <- c(1.8, 2.1, 2.5, 2.9)
correlation <- rbind(c(1.00, 0.62, 0.48, 0.37),
                     c(0.62, 1.00, 0.66, 0.52),
                     c(0.48, 0.66, 1.00, 0.69),
                     c(0.37, 0.52, 0.69, 1.00))
Sigma <- diag(sds) %*% correlation %*% diag(sds)
stopifnot(min(eigen(Sigma)$values) > 0)

joint_mean <- function(x, y, arm, method, reference) {
  x_ref <- x
  x_ref[arm_columns] <- 0
  if (reference > 0) x_ref[arm_columns[reference]] <- 1
  own <- drop(x %*% B)
  ref <- drop(x_ref %*% B)
  observed <- which(!is.na(y))
  last <- if (length(observed)) max(observed) else 0
  if (method == "mar" || arm == reference) return(own)
  if (method == "cr") return(ref)
  c(own[seq_len(last)], ref[seq_len(visits - last) + last])  # j2r
}

conditional <- function(y, mu) {
  o <- !is.na(y)
  m <- !o
  mean <- y
  cov <- matrix(0, visits, visits)
  if (!any(m)) return(list(mean = mean, cov = cov))
  if (!any(o)) return(list(mean = mu, cov = Sigma))
  K <- Sigma[m, o, drop = FALSE] %*% solve(Sigma[o, o, drop = FALSE])
  mean[m] <- mu[m] + K %*% (y[o] - mu[o])
  cov[m, m] <- Sigma[m, m] - K %*% Sigma[o, m, drop = FALSE]
  # the same moments from the precision matrix P = Sigma^-1: mean_m = mu_m - P_mm^-1 P_mo (y_o - mu_o),
  # cov_mm = P_mm^-1 -- a second route, as a check of the first
  P <- solve(Sigma)
  alt_mean <- mu[m] - solve(P[m, m, drop = FALSE], P[m, o, drop = FALSE] %*% (y[o] - mu[o]))
  stopifnot(max(abs(alt_mean - mean[m])) < 1e-12, max(abs(solve(P[m, m, drop = FALSE]) - cov[m, m])) < 1e-12)
  list(mean = mean, cov = cov)
}

means <- list()
covs <- list()
for (method in c("mar", "j2r", "cr")) for (reference in c(0, 1)) {
  for (i in seq_len(nrow(data))) {
    mu <- joint_mean(X[i, ], Y[i, ], data$arm[i], method, reference)
    res <- conditional(Y[i, ], mu)
    key <- data.frame(method = method, reference = reference, subject = data$subject[i])
    means[[length(means) + 1]] <- cbind(key, t(setNames(res$mean, paste0("visit", 1:visits))))
    covs[[length(covs) + 1]] <- cbind(key, row = 1:visits, setNames(as.data.frame(res$cov), paste0("visit", 1:visits)))
  }
}
means <- do.call(rbind, means)
covs <- do.call(rbind, covs)

# sanity: MAR does not depend on the reference; J2R = CR for subjects with nothing observed (4, 11);
# every method is MAR for the reference arm's subjects
by <- function(meth, ref) unname(as.matrix(means[means$method == meth & means$reference == ref, -(1:3)]))
stopifnot(identical(by("mar", 0), by("mar", 1)), identical(by("j2r", 0)[c(4, 11), ], by("cr", 0)[c(4, 11), ]),
          identical(by("j2r", 1)[5:8, ], by("mar", 1)[5:8, ]), identical(by("cr", 0)[1:4, ], by("mar", 0)[1:4, ]))

write_exact_csv(data, "data.csv")
write_exact_csv(data.frame(term = rownames(B), setNames(as.data.frame(B), paste0("visit", 1:visits))), "B.csv")
write_exact_csv(setNames(as.data.frame(Sigma), paste0("visit", 1:visits)), "Sigma.csv")
write_exact_csv(means, "expected_mean.csv")
write_exact_csv(covs, "expected_cov.csv")
options(width = 120)
print(means, digits = 6)
sessionInfo()
