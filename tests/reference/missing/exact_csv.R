# Write a data frame as CSV with every double at full precision ("%.17g" round-trips an IEEE double;
# data given to one decimal are written with 15 digits, which reads back as the same doubles),
# NA as an empty field, infinities as Inf / -Inf. Sourced by the scripts in the folders below.
write_exact_csv <- function(d, path, digits = 17) {
  d[] <- lapply(d, function(v) {
    if (is.double(v)) v <- sprintf(paste0("%.", digits, "g"), v)
    v[is.na(v) | v == "NA"] <- ""
    v
  })
  write.csv(d, path, row.names = FALSE, quote = FALSE)
}

# Versions of R and of the packages used, printed into the .Rout
print_versions <- function(packages) {
  cat(R.version.string, "\n")
  for (p in packages) cat(sprintf("%s %s\n", p, as.character(packageVersion(p))))
}
