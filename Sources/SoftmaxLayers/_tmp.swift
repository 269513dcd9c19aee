public enum _PSoftmaxLayers {}
