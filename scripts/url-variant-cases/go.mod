module kcred.invalid/url-variant-cases

go 1.24
